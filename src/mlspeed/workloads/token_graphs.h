// The CUDA graphs of a generation step (GraphScope::tokens), shared by the generation workloads:
// the prompt pass, which also makes the first new token, and one decode step, replayed for every
// further token. Both are recorded from the session's own functions, which must keep everything
// that changes from token to token on the device (the KV cache's position).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "mlspeed/device/graph.h"

namespace mlspeed {

class TokenGraphs {
 public:
  // Runs `prompt` and `decode` once on the recording stream (their lazy state: the decode step's
  // index copies and masked attention are kernels the eager step does not run), then records
  // them; `decode` only when the step makes more than one token (`decodes`).
  void record(GraphRecorder& recorder, const std::function<void()>& prompt, const std::function<void()>& decode,
              bool decodes);
  bool recorded() const { return prompt_ != nullptr; }
  // The prompt graph, `after_prompt` (the first-token mark), then `decode_steps` decode replays;
  // nothing waits for the device.
  void replay(int64_t decode_steps, const std::function<void()>& after_prompt = {});
  void drop();

 private:
  std::unique_ptr<Graph> prompt_, decode_;
};

}  // namespace mlspeed
