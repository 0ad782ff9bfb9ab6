#include "mlspeed/core/numerics.h"

namespace mlspeed {

ModelFormat storage_of(Precision p) {
  switch (model_dtype(p)) {
    case c10::ScalarType::Half: return ModelFormat::f16;
    case c10::ScalarType::BFloat16: return ModelFormat::bf16;
    default: return ModelFormat::f32;
  }
}

ModelFormat weight_format(const Numerics& n, Job job) {
  if (n.weights) return *n.weights;
  return job == Job::train ? ModelFormat::f32 : storage_of(n.precision);
}

bool quantized(const Numerics& n) {
  return n.weights && is_quantized(*n.weights);
}

}  // namespace mlspeed
