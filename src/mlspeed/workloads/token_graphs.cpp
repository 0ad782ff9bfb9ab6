#include "mlspeed/workloads/token_graphs.h"

namespace mlspeed {

void TokenGraphs::record(GraphRecorder& recorder, const std::function<void()>& prompt,
                         const std::function<void()>& decode, bool decodes) {
  drop();
  recorder.warm_up([&] {
    prompt();
    if (decodes) decode();
  });
  prompt_ = recorder.record(prompt);
  if (decodes) decode_ = recorder.record(decode);
}

void TokenGraphs::replay(int64_t decode_steps, const std::function<void()>& after_prompt) {
  prompt_->replay();
  if (after_prompt) after_prompt();
  for (int64_t i = 0; i < decode_steps; ++i) decode_->replay();
}

void TokenGraphs::drop() {
  decode_.reset();
  prompt_.reset();
}

}  // namespace mlspeed
