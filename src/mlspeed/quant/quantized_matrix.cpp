#include "mlspeed/quant/quantized_matrix.h"

#include <ATen/Parallel.h>

#include <stdexcept>
#include <vector>

#include "mlspeed/core/numerics.h"
#include "mlspeed/quant/blocks.h"
#include "mlspeed/quant/cpu_kernels.h"
#include "mlspeed/quant/fault_hook.h"  // verify's fault hook: the blocks as a faulty kernel reads them

namespace mlspeed::quant {
namespace {

// Input rows up to which the CPU multiplies through the vectorised kernels, reading the blocks
// once per row; beyond, one dequantisation and a BLAS product cost less than reading the blocks
// again for every row.
constexpr int64_t kCpuGemvRows = 8;
// Input values per scale of a QuantizedInput (quant/cuda/gemv_input.cuh's kGemvInputRun).
constexpr int64_t kInputRun = 32;
CudaKernels& cuda_kernels() {
  static CudaKernels kernels;
  return kernels;
}

// The bytes [offset, offset + count) of every block: (rows, blocks, count), uint8.
at::Tensor block_bytes(const at::Tensor& blocks3, int64_t offset, int64_t count) {
  return blocks3.narrow(-1, offset, count);
}

// An fp16 field of every block as float32 (rows, blocks, 1).
at::Tensor half_field(const at::Tensor& blocks3, int64_t offset) {
  return block_bytes(blocks3, offset, 2).contiguous().view(at::kHalf).to(at::kFloat);
}

at::Tensor as_int(const at::Tensor& bytes) { return bytes.to(at::kInt); }

at::Tensor tensor_dequantize_q8_0(const at::Tensor& b) {
  const at::Tensor q = block_bytes(b, 2, 32).contiguous().view(at::kChar).to(at::kFloat);
  return q * half_field(b, 0);
}

at::Tensor tensor_dequantize_q4_0(const at::Tensor& b) {
  const at::Tensor qs = as_int(block_bytes(b, 2, 16));
  const at::Tensor q = at::cat({at::bitwise_and(qs, 15), at::bitwise_right_shift(qs, 4)}, -1).to(at::kFloat);
  return (q - 8.0) * half_field(b, 0);
}

// Q4_K: 8 sub-blocks of 32, each with a 6-bit scale and min packed in 12 bytes (ggml's
// get_scale_min_k4): sub-blocks 0-3 in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins);
// sub-blocks 4-7 in the nibbles of bytes 8-11 with their top 2 bits in the top bits of bytes 0-7.
at::Tensor tensor_dequantize_q4_k(const at::Tensor& b) {
  const at::Tensor s = as_int(block_bytes(b, 4, 12));
  const at::Tensor s0 = s.narrow(-1, 0, 4), s4 = s.narrow(-1, 4, 4), s8 = s.narrow(-1, 8, 4);
  const auto shr = [](const at::Tensor& t, int64_t n) { return at::bitwise_right_shift(t, n); };
  const at::Tensor scale = at::cat({at::bitwise_and(s0, 63),
                                    at::bitwise_or(at::bitwise_and(s8, 15), at::bitwise_left_shift(shr(s0, 6), 4))},
                                   -1);
  const at::Tensor min = at::cat({at::bitwise_and(s4, 63), at::bitwise_or(shr(s8, 4), at::bitwise_left_shift(shr(s4, 6), 4))}, -1);
  // 4 chunks of 32 bytes: the low nibbles are sub-block 2c, the high ones 2c + 1.
  const at::Tensor qs = as_int(block_bytes(b, 16, 128));
  const at::Tensor chunks = qs.unflatten(-1, {4, 32});
  const at::Tensor q = at::stack({at::bitwise_and(chunks, 15), shr(chunks, 4)}, -2).flatten(-3, -2).to(at::kFloat);
  const at::Tensor d = half_field(b, 0).unsqueeze(-1), dmin = half_field(b, 2).unsqueeze(-1);
  const at::Tensor value = d * scale.to(at::kFloat).unsqueeze(-1) * q - dmin * min.to(at::kFloat).unsqueeze(-1);
  return value.flatten(-2);
}

// Q6_K: two halves of 128; in each, 64 bytes of low nibbles (ql), 32 of high 2-bit pairs (qh) and
// 8 int8 scales, one per 16 values; ggml's order of the four 32-value runs of a half.
at::Tensor tensor_dequantize_q6_k(const at::Tensor& b) {
  const auto shr = [](const at::Tensor& t, int64_t n) { return at::bitwise_right_shift(t, n); };
  const auto low2 = [&](const at::Tensor& t, int64_t n) { return at::bitwise_left_shift(at::bitwise_and(shr(t, n), 3), 4); };
  const at::Tensor ql = as_int(block_bytes(b, 0, 128)).unflatten(-1, {2, 64});
  const at::Tensor qh = as_int(block_bytes(b, 128, 64)).unflatten(-1, {2, 32});
  const at::Tensor la = ql.narrow(-1, 0, 32), lb = ql.narrow(-1, 32, 32);
  const at::Tensor q = at::stack({at::bitwise_or(at::bitwise_and(la, 15), low2(qh, 0)),
                                  at::bitwise_or(at::bitwise_and(lb, 15), low2(qh, 2)),
                                  at::bitwise_or(shr(la, 4), low2(qh, 4)), at::bitwise_or(shr(lb, 4), low2(qh, 6))},
                                 -2);                                   // (rows, blocks, 2, 4, 32)
  const at::Tensor scales = block_bytes(b, 192, 16).contiguous().view(at::kChar).to(at::kFloat);
  // Run k of a half, value l: scale 2k + l / 16 of that half.
  const at::Tensor sc = scales.unflatten(-1, {2, 4, 2}).unsqueeze(-1);  // (rows, blocks, 2, 4, 2, 1)
  const at::Tensor value = (q.to(at::kFloat) - 32.0).unflatten(-1, {2, 16}) * sc * half_field(b, 208).unsqueeze(-1).unsqueeze(-1).unsqueeze(-1);
  return value.flatten(-4);
}

// The matrix in float32 through blocks.h's decoder, rows spread over LibTorch's threads: on the
// CPU a dozen times faster than the tensor ops' dozens of passes over the blocks.
at::Tensor dequantize_on_cpu(const QuantizedMatrix& w) {
  const at::Tensor blocks = w.blocks.contiguous();
  at::Tensor out = at::empty({w.rows, w.cols}, at::kFloat);
  const int64_t row_bytes = blocks.size(1);
  const uint8_t* src = blocks.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, w.rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) dequantize_row(w.format, src + r * row_bytes, dst + r * w.cols, w.cols);
  });
  return out;
}

}  // namespace

QuantizedMatrix QuantizedMatrix::narrow_rows(int64_t start, int64_t count) const {
  return {format, count, cols, blocks.narrow(0, start, count)};
}

QuantizedMatrix empty_matrix(WeightFormat format, int64_t rows, int64_t cols, const at::Device& device) {
  const int64_t row_bytes = storage_bytes(format, cols);
  return {format, rows, cols, at::empty({rows, row_bytes}, at::TensorOptions(at::kByte).device(device))};
}

at::Tensor dequantize(const QuantizedMatrix& given, at::ScalarType dtype) {
  const FaultedMatrix faulted(given);  // verify's fault hook (fault_hook.h)
  const QuantizedMatrix& w = faulted.matrix();
  const WeightFormatTraits& t = traits(w.format);
  if (!t.quantized) {
    return w.blocks.contiguous().view(dtype_of(w.format)).to(dtype);
  }
  // One kernel in place of ten (a quantised embedding's row is dequantised every decode step).
  if (own_kernels() && w.blocks.is_cuda() && cuda_kernels().dequantize) return cuda_kernels().dequantize(w, dtype);
  const at::Tensor b = w.blocks.reshape({w.rows, w.cols / t.block_elements, t.block_bytes});
  at::Tensor value;
  switch (w.format) {
    case WeightFormat::q8_0: value = tensor_dequantize_q8_0(b); break;
    case WeightFormat::q4_0: value = tensor_dequantize_q4_0(b); break;
    case WeightFormat::q4_k: value = tensor_dequantize_q4_k(b); break;
    case WeightFormat::q6_k: value = tensor_dequantize_q6_k(b); break;
    default: throw std::logic_error("dequantize: no rule for " + std::string(name(w.format)));
  }
  return value.reshape({w.rows, w.cols}).to(dtype);
}

at::Tensor linear(const at::Tensor& x, const QuantizedMatrix& given) {
  const FaultedMatrix faulted(given);  // verify's fault hook (fault_hook.h)
  const QuantizedMatrix& w = faulted.matrix();
  TORCH_CHECK(x.size(-1) == w.cols, "[quant] input of width ", x.size(-1), " for a matrix of ", w.cols, " columns");
  const at::Tensor x2d = x.reshape({-1, w.cols});
  const int64_t n = x2d.size(0);
  at::Tensor y;
  const bool own = own_kernels();
  if (own && x.device().is_cpu() && n <= kCpuGemvRows) {
    const at::Tensor xf = x2d.to(at::kFloat).contiguous();
    at::Tensor yf = at::empty({n, w.rows}, xf.options());
    const at::Tensor blocks = w.blocks.contiguous();
    gemm_rows(w.format, blocks.data_ptr<uint8_t>(), w.rows, w.cols, xf.data_ptr<float>(), n, yf.data_ptr<float>());
    y = yf.to(x.scalar_type());
  } else if (own && x.device().is_cuda() && cuda_kernels().linear) {
    y = cuda_kernels().linear(x2d, w);
  } else if (own && x.device().is_cpu()) {
    y = at::matmul(x2d, dequantize_on_cpu(w).to(x.scalar_type()).t());
  } else {
    y = at::matmul(x2d, dequantize(w, x.scalar_type()).t());
  }
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = w.rows;
  return y.view(shape);
}

at::Tensor gather_rows(const QuantizedMatrix& given, const at::Tensor& ids, at::ScalarType dtype) {
  const FaultedMatrix faulted(given);  // verify's fault hook (fault_hook.h)
  const QuantizedMatrix& w = faulted.matrix();
  const at::Tensor flat = ids.reshape({-1});
  const QuantizedMatrix picked{w.format, flat.size(0), w.cols, w.blocks.index_select(0, flat)};
  std::vector<int64_t> shape = ids.sizes().vec();
  shape.push_back(w.cols);
  return dequantize(picked, dtype).view(shape);
}

void fill_random(QuantizedMatrix& w, at::Generator generator) {
  at::NoGradGuard no_grad;
  const WeightFormatTraits& t = traits(w.format);
  if (!t.quantized) {
    dequantize(w, at::kFloat);  // checks the shape
    w.blocks.view(dtype_of(w.format)).normal_(0.0, 0.02, generator);
    return;
  }
  w.blocks.random_(0, 256, generator);
  const at::Tensor b = w.blocks.view({w.rows, w.cols / t.block_elements, t.block_bytes});
  const auto set_half = [&](int64_t offset, double value) {
    const at::Tensor h = at::full({w.rows, b.size(1), 1}, value, b.options().dtype(at::kHalf));
    block_bytes(b, offset, 2).copy_(h.view(at::kByte));
  };
  // Scales for a standard deviation of about 0.02 over uniformly random quants (std of q - 8
  // about 4.6, of an int8 about 74, of 6-bit scales times nibbles about 150).
  switch (w.format) {
    case WeightFormat::q8_0: set_half(0, 2.7e-4); break;
    case WeightFormat::q4_0: set_half(0, 4.3e-3); break;
    case WeightFormat::q4_k: set_half(0, 1.4e-4), set_half(2, 1.0e-3); break;
    case WeightFormat::q6_k:
      block_bytes(b, 192, 16).random_(0, 32, generator);  // positive int8 scales 0..31
      set_half(208, 6.0e-5);
      break;
    default: break;
  }
}

QuantizedMatrix quantize(const at::Tensor& dense, WeightFormat format, const at::Device& device) {
  TORCH_CHECK(dense.dim() == 2, "[quant] quantize takes a matrix, got ", dense.sizes());
  const at::Tensor values = dense.detach().to(at::kCPU, at::kFloat).contiguous();
  const int64_t rows = values.size(0), cols = values.size(1), row_bytes = storage_bytes(format, cols);
  QuantizedMatrix w = empty_matrix(format, rows, cols, at::kCPU);
  const float* src = values.data_ptr<float>();
  uint8_t* dst = w.blocks.data_ptr<uint8_t>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) quantize_row(format, src + r * cols, dst + r * row_bytes, cols);
  });
  w.blocks = w.blocks.to(device);
  return w;
}

void register_cuda_kernels(const CudaKernels& kernels) { cuda_kernels() = kernels; }

int64_t quantized_input_bytes(int64_t rows, int64_t cols) {
  const int64_t values = rows * cols;
  return values + (values / kInputRun) * int64_t(sizeof(float) + sizeof(int32_t));
}

bool takes_quantized_input(const QuantizedMatrix& w, const at::Device& device, int64_t rows) {
  return own_kernels() && device.is_cuda() && cuda_kernels().linear_quantized && traits(w.format).quantized &&
         rows >= 1 && rows <= kCudaGemvRows;
}

at::Tensor linear(const QuantizedInput& x, const QuantizedMatrix& given, at::ScalarType dtype, const at::Tensor& add) {
  const FaultedMatrix faulted(given);  // verify's fault hook (fault_hook.h)
  const QuantizedMatrix& w = faulted.matrix();
  TORCH_CHECK(takes_quantized_input(w, x.bytes.device(), x.rows), "[quant] no kernel takes ", x.rows,
              " quantised input rows for ", name(w.format), " on ", x.bytes.device(), " with the ",
              name(current_kernel_set()), " kernels");
  TORCH_CHECK(x.cols == w.cols, "[quant] input of width ", x.cols, " for a matrix of ", w.cols, " columns");
  TORCH_CHECK(!add.defined() || (add.sizes() == at::IntArrayRef{x.rows, w.rows} && add.scalar_type() == dtype),
              "[quant] add must be (", x.rows, ", ", w.rows, ") in ", dtype);
  return cuda_kernels().linear_quantized(x, w, dtype, add);
}

QuantizedInput quantize_input(const at::Tensor& x) {
  TORCH_CHECK(x.device().is_cuda() && cuda_kernels().quantize_input, "[quant] quantize_input needs the CUDA kernels");
  TORCH_CHECK(x.dim() == 2 && x.size(1) % kInputRun == 0, "[quant] quantize_input takes (rows, a multiple of ",
              kInputRun, " columns), got ", x.sizes());
  return cuda_kernels().quantize_input(x);
}

at::Tensor dequantize_input(const QuantizedInput& x) {
  // The layout of quant/cuda/quant_kernels.cuh's gemv_input_view: quants, then scales, then sums.
  const int64_t values = x.rows * x.cols, runs = values / kInputRun;
  const at::Tensor q = x.bytes.narrow(0, 0, values).view(at::kChar).to(at::kFloat).view({runs, kInputRun});
  const at::Tensor d = x.bytes.narrow(0, values, runs * int64_t(sizeof(float))).view(at::kFloat).view({runs, 1});
  return (q * d).view({x.rows, x.cols});
}

std::string path_name(const at::Device& device, int64_t input_rows, KernelSet kernels) {
  if (kernels == KernelSet::libtorch) return "dequantize+matmul";
  if (device.is_cpu() && input_rows <= kCpuGemvRows) return "cpu-" + cpu_kernel_isa();
  if (device.is_cuda() && cuda_kernels().linear)
    return input_rows <= kCudaGemvRows ? cuda_kernels().name : "cuda-dequantize+matmul";
  return "dequantize+matmul";
}

}  // namespace mlspeed::quant
