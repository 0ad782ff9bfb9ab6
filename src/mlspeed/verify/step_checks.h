// The model checks that run the step as `mlspeed run` times it: training (20 steps against the
// CPU's, on a GPU the first eager and the rest replayed from the recorded CUDA graph) and, on a
// device with graphs, the replay of an inference or generation step against the same step run
// eagerly.
#pragma once

#include <cstdint>
#include <functional>

#include "mlspeed/verify/check.h"
#include "mlspeed/verify/model_check_kit.h"

namespace mlspeed::verify::models {

void training(const Context& c, int64_t steps, const std::function<void(CheckResult)>& emit);
void step_replay(const Context& c, const std::function<void(CheckResult)>& emit);

}  // namespace mlspeed::verify::models
