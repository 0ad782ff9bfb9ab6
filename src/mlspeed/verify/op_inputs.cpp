#include "mlspeed/verify/op_inputs.h"

namespace mlspeed::verify {

at::Tensor normal(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double scale) {
  return (at::randn(sizes, gen, at::kDouble) * scale).to(dtype);
}

at::Tensor uniform(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double low, double high) {
  return (at::rand(sizes, gen, at::kDouble) * (high - low) + low).to(dtype);
}

at::Tensor values(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double scale, int64_t limit) {
  if (at::isFloatingType(dtype)) return normal(gen, sizes, dtype, scale);
  if (dtype == at::kBool) return at::randint(0, 2, sizes, gen, at::kLong).to(at::kBool);
  at::Tensor magnitude = at::randint(1, limit + 1, sizes, gen, at::kLong);
  if (dtype == at::kByte) return magnitude.to(dtype);
  return (magnitude * (at::randint(0, 2, sizes, gen, at::kLong) * 2 - 1)).to(dtype);
}

at::Tensor ties(at::Generator& gen, Sizes sizes, at::ScalarType dtype) {
  return at::randint(0, dtype == at::kBool ? 2 : 4, sizes, gen, at::kLong).to(dtype);
}

OpCase with_view_layouts(OpCase c) {
  if (c.compute_out) c.layouts.push_back("out-strided");
  if (c.compute_inplace) c.layouts.push_back("inplace-view");
  return c;
}

std::function<at::Tensor(const Tensors&)> through_float64(std::function<at::Tensor(const Tensors&)> compute,
                                                          std::vector<size_t> widened) {
  return [compute = std::move(compute), widened = std::move(widened)](const Tensors& in) {
    Tensors wide = in;
    for (size_t i : widened) wide[i] = in[i].to(at::kDouble);
    return compute(wide);
  };
}

}  // namespace mlspeed::verify
