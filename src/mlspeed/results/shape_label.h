// A short label of a row's shape, as llama-bench names its tests, so that a table can say in one
// narrow column what each configuration ran: "b4 s128" (batch, sequence), "b32" (no sequence),
// "pp512" (one forward of a 512-token prompt), "tg128" (128 tokens generated one at a time),
// "pp4+tg16" (a prompt, then tokens), "tg128 @ d4096" (after 4096 positions of context). The batch is shown for generation only when above 1
// ("b4 tg128").
#pragma once

#include <string>

#include "mlspeed/results/result.h"

namespace mlspeed {

std::string shape_label(const Result& row);

}  // namespace mlspeed
