// `mlspeed run --model FILE.gguf` (llama-bench's -m): the Llama-family model a GGUF file holds,
// timed as llama2-7b-generate times its model — llama-bench's pp512 and tg128 as separate rows,
// greedy decoding with a KV cache, CUDA graphs where the device has them — with the file's own
// weights in their own formats (a Q4_0 file's blocks, its Q6_K output).
//
// The workload is named after the file (its name without ".gguf": "llama-2-7b-chat.Q4_0"), so
// that the same file compares across machines; its one size is "full", and its description says
// what llama-bench's model columns say: "llama 7B Q4_0, 3.56 GiB, 6.74 B parameters".
#pragma once

#include <memory>
#include <string>

#include "mlspeed/workloads/workload.h"

namespace mlspeed {

// Reads and checks the file's metadata and tensor table (not its weights, read by open());
// InputFileError for a file that is no Llama GGUF mlspeed can run.
std::unique_ptr<Workload> make_gguf_generate(const std::string& path);

}  // namespace mlspeed
