#include "mlspeed/core/numerics.h"

#include <stdexcept>
#include <string>

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

c10::ScalarType dtype_of(WeightFormat plain) {
  switch (plain) {
    case WeightFormat::f32: return c10::ScalarType::Float;
    case WeightFormat::f16: return c10::ScalarType::Half;
    case WeightFormat::bf16: return c10::ScalarType::BFloat16;
    default: throw std::invalid_argument(std::string(name(plain)) + " is no plain dtype");
  }
}

WeightFormat plain_format_of(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::Float: return WeightFormat::f32;
    case c10::ScalarType::Half: return WeightFormat::f16;
    case c10::ScalarType::BFloat16: return WeightFormat::bf16;
    default: throw std::invalid_argument(std::string("no weight format stores ") + c10::toString(dtype));
  }
}

bool quantized(const Numerics& n) {
  return n.weights && is_quantized(*n.weights);
}

}  // namespace mlspeed
