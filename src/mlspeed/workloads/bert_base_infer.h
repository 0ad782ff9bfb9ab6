// bert-base-infer ("Macbook Pro GPU for ML?"): the bert-base-uncased encoder's forward pass, batch x sequence.
//
// The session type is public so that verification and tests can read the outputs and the
// model; the runner only sees it as a Session.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mlspeed/core/precision.h"
#include "mlspeed/models/bert.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_bert_base_infer();

namespace bert {

// The model configuration of a size of the workload ("tiny", "full"); throws std::invalid_argument
// for any other name.
BertConfig base_infer_config(const std::string& size);

class InferenceSession : public Session {
 public:
  // Seeds the global generator, builds the model on the CPU (the same weights for every
  // device), puts it in eval mode and moves it; for fp16/bf16 the weights are cast to that
  // dtype, as inference is usually run. fp32 and tf32 are both float32 (the runner sets TF32).
  InferenceSession(const BertConfig& config, const c10::Device& device, Precision precision, uint64_t seed);

  // Token ids (shape.batch, shape.seq) uniform in [0, vocab), drawn on the CPU from the seed
  // and moved to the device here. One segment, no padding.
  void prepare(const Shape& shape) override;
  // One forward under c10::InferenceMode; no synchronisation.
  void step() override;

  const BertModelOutput& last_bert_output() const { return output_; }
  BertModel& bert_model() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  // The sequence output (batch, seq, hidden).
  at::Tensor last_output() const override { return output_.sequence_output; }
  // The sequence output of the prepared batch, as step() computes it, recording autograd.
  at::Tensor forward() override;
  const at::Tensor& input_ids() const { return input_ids_; }

 private:
  c10::Device device_;
  uint64_t seed_;
  BertModel model_{nullptr};
  at::Tensor input_ids_;
  BertModelOutput output_;
};

}  // namespace bert
}  // namespace mlspeed
