// The numerics of one configuration, as one value: how the model computes (Precision: the
// activation dtype, autocast and loss scaling for training, TF32) and how its weights are stored
// (ModelFormat: a plain dtype or one of llama.cpp's quantised file types, core/weight_format.h).
//
//   -t bf16                       compute bf16, weights the job's own: bf16 for inference,
//                                 float32 master weights for training (autocast computes in bf16)
//   -t bf16 --weight-format q4_0  compute bf16, weights stored as Q4_0 blocks (output Q6_K)
//
// Converting from a Precision gives "the job's own weights", so code that times a model in its
// usual storage names only the precision.
#pragma once

#include <optional>
#include <string>

#include "mlspeed/core/job.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/core/weight_format.h"

namespace mlspeed {

struct Numerics {
  Precision precision = Precision::fp32;
  std::optional<ModelFormat> weights;  // chosen storage; none: the job's own (see weight_format)

  Numerics() = default;
  Numerics(Precision p) : precision(p) {}  // NOLINT(google-explicit-constructor): see the header comment
  Numerics(Precision p, ModelFormat w) : precision(p), weights(w) {}

  bool operator==(const Numerics& other) const { return precision == other.precision && weights == other.weights; }
  bool operator!=(const Numerics& other) const { return !(*this == other); }
};

// The plain storage of a precision's model dtype: f32 for fp32 and tf32, f16, bf16.
ModelFormat storage_of(Precision p);
// How the weights are stored: the chosen format, else float32 for training (autocast keeps float32
// master weights) and the precision's dtype for inference.
ModelFormat weight_format(const Numerics& n, Job job);
// The LibTorch dtype of a plain format (f32, f16, bf16), and the plain format of a dtype (float32,
// float16, bfloat16); std::invalid_argument for a quantised format or another dtype.
c10::ScalarType dtype_of(WeightFormat plain);
WeightFormat plain_format_of(c10::ScalarType dtype);
// Whether the weights are stored in quantised blocks (the chosen format is one of llama.cpp's).
bool quantized(const Numerics& n);

}  // namespace mlspeed
