// quant::linear's CUDA path (quantized_matrix.h's CudaKernels), registered at start-up:
//
//   plain formats (f32, f16, bf16)  the blocks viewed as the matrix, then at::linear (cuBLAS); when
//                                   x's dtype differs, a few rows of x are cast up to f32 weights
//                                   (the weights are read once), otherwise the weights are cast to
//                                   x's dtype, as the CPU path does
//   quantised, n <= kGemvMaxRows    quantize_gemv_input + gemv (quant_gemv.cu): decoding
//   quantised, more rows            dequantize (dequantize.cu) into x's dtype, then at::linear
//   an input quantised already      gemv alone, adding the residual when asked (the fused kernels of
//                                   a decode step, fused/cuda, write their outputs so)
//
// Everything runs on the current stream of x's device; the only allocations are at::empty's
// (the output, the quantised input, the dequantised matrix), which the CUDA caching allocator
// serves from a graph's private pool while one is recorded: no host synchronisation, so the
// decode step can be captured in a CUDA graph.
//
// The registration is a static initialiser in this object. mlspeed_core is a static library, from
// which the linker takes only objects that something references; CMakeLists.txt passes
// -Wl,--undefined=mlspeed_quant_cuda_register to every program that links it, which makes the
// linker take this one (and a program may call the function itself; it is idempotent).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "mlspeed/quant/cuda/quant_kernels.cuh"
#include "mlspeed/quant/quantized_matrix.h"

// Registers the kernels with quant::linear (again: harmless). C linkage: a name for the linker.
extern "C" void mlspeed_quant_cuda_register();

namespace mlspeed::quant::gpu {
namespace {

GpuDtype cuq_gpu_dtype(at::ScalarType t) {
  switch (t) {
    case at::kHalf: return GpuDtype::f16;
    case at::kBFloat16: return GpuDtype::bf16;
    default: return GpuDtype::f32;
  }
}

at::ScalarType cuq_stored_type(WeightFormat f) {
  return f == WeightFormat::f32 ? at::kFloat : (f == WeightFormat::f16 ? at::kHalf : at::kBFloat16);
}

at::Tensor cuq_plain_linear(const at::Tensor& x2d, const QuantizedMatrix& w) {
  const at::ScalarType stored = cuq_stored_type(w.format), wanted = x2d.scalar_type();
  const at::Tensor weight = w.blocks.contiguous().view(stored);  // (rows, cols)
  if (stored == wanted) return at::linear(x2d, weight);
  if (stored == at::kFloat && x2d.size(0) <= kGemvMaxRows) return at::linear(x2d.to(at::kFloat), weight).to(wanted);
  return at::linear(x2d, weight.to(wanted));
}

// The blocks with their bytes contiguous within each row (the row stride may be anything).
at::Tensor cuq_row_bytes(const QuantizedMatrix& w) {
  return w.blocks.stride(1) == 1 ? w.blocks : w.blocks.contiguous();
}

at::Tensor cuq_decode(const at::Tensor& x2d, const QuantizedMatrix& w, const at::Tensor& blocks, cudaStream_t stream) {
  const int64_t n = x2d.size(0);
  const at::Tensor scratch = at::empty({static_cast<int64_t>(gemv_input_bytes(n, w.cols))}, x2d.options().dtype(at::kByte));
  C10_CUDA_CHECK(quantize_gemv_input(x2d.data_ptr(), cuq_gpu_dtype(x2d.scalar_type()), n, w.cols, x2d.stride(0),
                                     x2d.stride(1), scratch.data_ptr(), stream));
  at::Tensor y = at::empty({n, w.rows}, x2d.options());
  C10_CUDA_CHECK(gemv(w.format, blocks.data_ptr<uint8_t>(), blocks.stride(0), w.rows, w.cols,
                      gemv_input_view(scratch.data_ptr(), n, w.cols), n, nullptr, y.data_ptr(),
                      cuq_gpu_dtype(y.scalar_type()), stream));
  return y;
}

// The product of an input a fused kernel quantised already (quant::linear's checks done).
at::Tensor cuq_linear_quantized(const QuantizedInput& x, const QuantizedMatrix& w, at::ScalarType dtype,
                                const at::Tensor& add) {
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16, "[quant] products in ", dtype,
              " are not made by the CUDA kernels");
  TORCH_CHECK(x.bytes.numel() == static_cast<int64_t>(gemv_input_bytes(x.rows, x.cols)) &&
                  w.blocks.device() == x.bytes.device(),
              "[quant] a quantised input of ", x.bytes.numel(), " bytes on ", x.bytes.device(), " for (", x.rows,
              ", ", x.cols, ") and blocks on ", w.blocks.device());
  const c10::cuda::CUDAGuard device(x.bytes.device());
  const at::Tensor blocks = cuq_row_bytes(w);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream(x.bytes.device().index()).stream();
  at::Tensor y = at::empty({x.rows, w.rows}, x.bytes.options().dtype(dtype));
  const at::Tensor plus = add.defined() ? add.contiguous() : add;
  C10_CUDA_CHECK(gemv(w.format, blocks.data_ptr<uint8_t>(), blocks.stride(0), w.rows, w.cols,
                      gemv_input_view(x.bytes.data_ptr(), x.rows, x.cols), x.rows,
                      plus.defined() ? plus.data_ptr() : nullptr, y.data_ptr(), cuq_gpu_dtype(dtype), stream));
  return y;
}

QuantizedInput cuq_quantize_input(const at::Tensor& x2d) {
  const at::Tensor x = x2d.scalar_type() == at::kFloat || x2d.scalar_type() == at::kHalf ||
                               x2d.scalar_type() == at::kBFloat16
                           ? x2d
                           : x2d.to(at::kFloat);
  const c10::cuda::CUDAGuard device(x.device());
  const int64_t n = x.size(0), cols = x.size(1);
  QuantizedInput out{at::empty({static_cast<int64_t>(gemv_input_bytes(n, cols))}, x.options().dtype(at::kByte)), n,
                     cols};
  if (n == 0) return out;
  C10_CUDA_CHECK(quantize_gemv_input(x.data_ptr(), cuq_gpu_dtype(x.scalar_type()), n, cols, x.stride(0), x.stride(1),
                                     out.bytes.data_ptr(), at::cuda::getCurrentCUDAStream(x.device().index()).stream()));
  return out;
}

at::Tensor cuq_prompt(const at::Tensor& x2d, const QuantizedMatrix& w, const at::Tensor& blocks, cudaStream_t stream) {
  at::Tensor dense = at::empty({w.rows, w.cols}, x2d.options());
  C10_CUDA_CHECK(dequantize(w.format, blocks.data_ptr<uint8_t>(), blocks.stride(0), w.rows, w.cols, dense.data_ptr(),
                            cuq_gpu_dtype(dense.scalar_type()), stream));
  return at::linear(x2d, dense);
}

// The matrix dequantised by dequantize.cu (quant::dequantize's CUDA path: an embedding's rows).
at::Tensor cuq_dequantize(const QuantizedMatrix& w, at::ScalarType dtype) {
  TORCH_CHECK(w.blocks.is_cuda() && traits(w.format).quantized, "[quant] the CUDA dequantisation takes quantised "
              "blocks on a CUDA device");
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    return cuq_dequantize(w, at::kFloat).to(dtype);
  const c10::cuda::CUDAGuard device(w.blocks.device());
  at::Tensor dense = at::empty({w.rows, w.cols}, w.blocks.options().dtype(dtype));
  if (w.rows == 0) return dense;
  const at::Tensor blocks = w.blocks.contiguous();
  C10_CUDA_CHECK(dequantize(w.format, blocks.data_ptr<uint8_t>(), blocks.stride(0), w.rows, w.cols, dense.data_ptr(),
                            cuq_gpu_dtype(dtype), at::cuda::getCurrentCUDAStream(w.blocks.device().index()).stream()));
  return dense;
}

at::Tensor cuq_linear(const at::Tensor& x2d, const QuantizedMatrix& w) {
  TORCH_CHECK(x2d.is_cuda() && w.blocks.device() == x2d.device(), "[quant] input on ", x2d.device(),
              " for blocks on ", w.blocks.device());
  TORCH_CHECK(x2d.dim() == 2 && x2d.size(1) == w.cols, "[quant] input ", x2d.sizes(), " for a matrix of ", w.cols,
              " columns");
  const at::ScalarType dtype = x2d.scalar_type();
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    return cuq_linear(x2d.to(at::kFloat), w).to(dtype);
  const c10::cuda::CUDAGuard device(x2d.device());
  if (!traits(w.format).quantized) return cuq_plain_linear(x2d, w);
  const int64_t n = x2d.size(0);
  if (n == 0 || w.rows == 0) return at::zeros({n, w.rows}, x2d.options());
  const at::Tensor blocks = cuq_row_bytes(w);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream(x2d.device().index()).stream();
  return n <= kGemvMaxRows ? cuq_decode(x2d, w, blocks, stream) : cuq_prompt(x2d, w, blocks, stream);
}

}  // namespace
}  // namespace mlspeed::quant::gpu

extern "C" void mlspeed_quant_cuda_register() {
  using namespace mlspeed::quant;
  register_cuda_kernels(
      {&gpu::cuq_linear, "cuda-gemv", &gpu::cuq_linear_quantized, &gpu::cuq_quantize_input, &gpu::cuq_dequantize});
}

namespace {
[[maybe_unused]] const bool cuq_registered_at_start = (mlspeed_quant_cuda_register(), true);
}  // namespace
