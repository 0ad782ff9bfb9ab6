// quant::linear's CUDA path (quantized_matrix.h's CudaKernels), registered at start-up:
//
//   plain formats (f32, f16, bf16)  the blocks viewed as the matrix, then at::linear (cuBLAS); when
//                                   x's dtype differs, a few rows of x are cast up to f32 weights
//                                   (the weights are read once), otherwise the weights are cast to
//                                   x's dtype, as the CPU path does
//   quantised, n <= kGemvMaxRows    quantize_gemv_input + gemv (quant_gemv.cu): decoding
//   quantised, more rows            dequantize (dequantize.cu) into x's dtype, then at::linear
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
                      gemv_input_view(scratch.data_ptr(), n, w.cols), n, y.data_ptr(), cuq_gpu_dtype(y.scalar_type()),
                      stream));
  return y;
}

at::Tensor cuq_prompt(const at::Tensor& x2d, const QuantizedMatrix& w, const at::Tensor& blocks, cudaStream_t stream) {
  at::Tensor dense = at::empty({w.rows, w.cols}, x2d.options());
  C10_CUDA_CHECK(dequantize(w.format, blocks.data_ptr<uint8_t>(), blocks.stride(0), w.rows, w.cols, dense.data_ptr(),
                            cuq_gpu_dtype(dense.scalar_type()), stream));
  return at::linear(x2d, dense);
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
  mlspeed::quant::register_cuda_kernels({&mlspeed::quant::gpu::cuq_linear, "cuda-gemv"});
}

namespace {
[[maybe_unused]] const bool cuq_registered_at_start = (mlspeed_quant_cuda_register(), true);
}  // namespace
