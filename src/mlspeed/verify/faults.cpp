#include "mlspeed/verify/faults.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <set>

#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/quant/fault_hook.h"
#include "mlspeed/verify/quant_faults.h"
#include "mlspeed/verify/quant_model_check.h"

namespace mlspeed::verify {
namespace {

using Stack = torch::jit::Stack;
using Handler = void (*)(const c10::OperatorHandle& op, Stack* stack);
constexpr auto kFaultKey = c10::DispatchKey::TESTING_ONLY_GenericMode;

// The i-th argument (before the call) or return (after it) of `op` on the stack.
c10::IValue& argument(const c10::OperatorHandle& op, Stack* stack, size_t i) {
  return (*stack)[stack->size() - op.schema().arguments().size() + i];
}
c10::IValue& returned(const c10::OperatorHandle& op, Stack* stack, size_t i) {
  return (*stack)[stack->size() - op.schema().returns().size() + i];
}

// The handlers run with the fault key excluded, so the ops they call are the normal ones.

void square_mm_transposed(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor a = argument(op, stack, 0).toTensor();
  const at::Tensor b = argument(op, stack, 1).toTensor();
  const int64_t n = a.size(0);
  if (a.dim() == 2 && b.dim() == 2 && n > 1 && a.size(1) == n && b.size(0) == n && b.size(1) == n)
    argument(op, stack, 1) = b.t();
  op.callBoxed(stack);
}

void cumsum_integer_identity(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor input = argument(op, stack, 0).toTensor();
  op.callBoxed(stack);
  if (!at::isFloatingType(input.scalar_type()) && !at::isComplexType(input.scalar_type()))
    returned(op, stack, 0) = input.to(returned(op, stack, 0).toTensor().scalar_type());
}

void argmax_int64_min(const c10::OperatorHandle& op, Stack* stack) {
  op.callBoxed(stack);
  returned(op, stack, 0) = at::full_like(returned(op, stack, 0).toTensor(), std::numeric_limits<int64_t>::min());
}

void argmax_zero(const c10::OperatorHandle& op, Stack* stack) {
  op.callBoxed(stack);
  returned(op, stack, 0) = at::zeros_like(returned(op, stack, 0).toTensor());
}

void layer_norm_ignores_offset(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor input = argument(op, stack, 0).toTensor();
  if (input.storage_offset() != 0) argument(op, stack, 0) = input.as_strided(input.sizes(), input.strides(), 0);
  op.callBoxed(stack);
}

// Rows of the table that start at or past element 2^16 come back as zeros: pytorch#188756's
// 2^31 limit, scaled down so that a CPU with little memory shows it.
constexpr int64_t kRowLimit = int64_t{1} << 16;

void lookup_zero_past_limit(const c10::OperatorHandle& op, Stack* stack) {
  const bool embedding = op.schema().name() == "aten::embedding";
  const at::Tensor table = argument(op, stack, 0).toTensor();
  const at::Tensor index = argument(op, stack, embedding ? 1 : 2).toTensor();
  const int64_t dim = embedding ? 0 : argument(op, stack, 1).toInt();
  op.callBoxed(stack);
  if (dim != 0 || table.dim() == 0 || table.size(0) == 0) return;
  const at::Tensor out = returned(op, stack, 0).toTensor();
  const int64_t row = table.numel() / table.size(0);
  at::Tensor keep = index * row < kRowLimit;  // index's shape; the row's elements follow
  while (keep.dim() < out.dim()) keep = keep.unsqueeze(-1);
  returned(op, stack, 0) = at::where(keep, out, at::zeros_like(out));
}

void matmul_inputs_as_bf16(const c10::OperatorHandle& op, Stack* stack) {
  const bool addmm = op.schema().name() == "aten::addmm";
  for (size_t i : {addmm ? size_t{1} : size_t{0}, addmm ? size_t{2} : size_t{1}}) {
    const at::Tensor t = argument(op, stack, i).toTensor();
    if (t.scalar_type() == at::kFloat) argument(op, stack, i) = t.to(at::kBFloat16).to(at::kFloat);
  }
  op.callBoxed(stack);
}

void softmax_half_overflow(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor input = argument(op, stack, 0).toTensor();
  const int64_t dim = argument(op, stack, 1).toInt();
  op.callBoxed(stack);
  if (input.scalar_type() != at::kHalf && input.scalar_type() != at::kBFloat16) return;
  // exp(x) overflows float16 past x = 11.09: a kernel that forgets to subtract the row maximum
  // and keeps exp(x) in float16 (for bf16 inputs too, so the CPU of LibTorch 1.13, which has no
  // fp16 softmax, can show it).
  const at::Tensor overflows = input.to(at::kFloat).amax(dim, /*keepdim=*/true) > 11.09;
  returned(op, stack, 0) =
      returned(op, stack, 0).toTensor().masked_fill(overflows, std::numeric_limits<double>::quiet_NaN());
}

// BUGS S7: softmax over rows of 12,416 elements returned NaN and was right on short rows. Every
// dtype but float64 (the reference's) goes wrong once a row reaches 1024 elements.
constexpr int64_t kLongRow = 1024;

void softmax_nan_long_rows(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor input = argument(op, stack, 0).toTensor();
  const int64_t dim = argument(op, stack, 1).toInt();
  op.callBoxed(stack);
  if (input.scalar_type() == at::kDouble || input.dim() == 0 || input.size(dim) < kLongRow) return;
  // Plus NaN rather than a new tensor, so autograd still flows (the backward checks see NaN too).
  returned(op, stack, 0) = returned(op, stack, 0).toTensor() + std::numeric_limits<double>::quiet_NaN();
}

void multinomial_always_zero(const c10::OperatorHandle& op, Stack* stack) {
  op.callBoxed(stack);
  returned(op, stack, 0) = at::zeros_like(returned(op, stack, 0).toTensor());
}

void layer_norm_backward_zero_rows(const c10::OperatorHandle& op, Stack* stack) {
  const auto normalized = argument(op, stack, 2).toIntVector();
  op.callBoxed(stack);
  const at::Tensor grad_input = returned(op, stack, 0).toTensor();
  if (!grad_input.defined() || grad_input.numel() == 0) return;
  int64_t row = 1;
  for (int64_t d : normalized) row *= d;
  const at::Tensor rows = grad_input.reshape({-1, row});
  const at::Tensor even = (at::arange(rows.size(0), rows.options().dtype(at::kLong)) % 2 == 0).unsqueeze(1);
  returned(op, stack, 0) = at::where(even, rows, at::zeros_like(rows)).reshape(grad_input.sizes());
}

void drop_update(const c10::OperatorHandle& op, Stack* stack) {
  if (!op.schema().returns().empty()) return op.callBoxed(stack);  // only the in-place forms return nothing
  torch::jit::drop(*stack, op.schema().arguments().size());
}

void warn_cpu_fallback(const c10::OperatorHandle& op, Stack* stack) {
  // The wording of LibTorch's MPS fallback (aten/src/ATen/mps/MPSFallback.mm).
  TORCH_WARN("The operator '", op.schema().name(),
             "' is not currently supported on the device under test and will fall back to run on the CPU. "
             "This may have performance implications.");
  op.callBoxed(stack);
}

void alternate_last_bit(const c10::OperatorHandle& op, Stack* stack) {
  static std::atomic<int64_t> calls{0};
  op.callBoxed(stack);
  const at::Tensor out = returned(op, stack, 0).toTensor();
  if ((out.scalar_type() == at::kFloat || out.scalar_type() == at::kDouble) && calls++ % 2 == 1)
    returned(op, stack, 0) = at::nextafter(out, at::full_like(out, std::numeric_limits<double>::infinity()));
}

// A healthy device that sums in another order (a GPU's blocked products and convolutions, its
// split reductions) returns each result a unit or so of its accumulator's rounding away from the
// CPU's. This moves every floating-point result of the ops it targets by up to one unit of
// float32 rounding (of float64's for double), up or down, before it is rounded to the result's
// dtype: a bf16 or fp16 result changes only where it lay that close to a rounding boundary, as
// an fp32 accumulator summed in another order changes it. The direction comes from a hash of the
// element's index and the call's number: repeatable from run to run, no generator state touched
// (the checks' seeded streams stay the CPU's), and only kernels on the tensor's own device, so
// that it also runs inside a CUDA graph capture.
void rounding_jitter(const c10::OperatorHandle& op, Stack* stack) {
  static std::atomic<int64_t> calls{0};
  op.callBoxed(stack);
  const int64_t call = calls++;
  for (size_t i = 0; i < op.schema().returns().size(); ++i) {
    c10::IValue& value = returned(op, stack, i);
    if (!value.isTensor()) continue;
    const at::Tensor out = value.toTensor();
    if (!out.defined() || !at::isFloatingType(out.scalar_type()) || out.numel() == 0) continue;
    const double ulp = out.scalar_type() == at::kDouble ? 0x1p-52 : 0x1p-23;
    // Two steps of the MINSTD generator from (index, call), reduced to [0, 1); every product stays
    // below 2^47.
    constexpr int64_t kModulus = 2147483647, kMultiplier = 48271;
    const at::Tensor index = at::arange(out.numel(), out.options().dtype(at::kLong)).view(out.sizes());
    at::Tensor state = (index + (call % 65536) * 32768).remainder(kModulus) + 1;
    for (int step = 0; step < 2; ++step) state = (state * kMultiplier).remainder(kModulus);
    const at::Tensor u = state.to(at::kDouble) / kModulus;
    at::Tensor moved = at::empty_like(out);  // the result's own layout (channels-last stays so)
    moved.copy_(out.to(at::kDouble) * (1 + ulp * (2 * u - 1)));
    value = moved;
  }
}

// nll_loss_backward (self: argument 1, target: 2, ignore_index: 5): the gradient taken for each
// counted target's next class. (A loss of shifted targets, forward and backward, would train as
// well as the right one: a training curve could not tell.)
void nll_loss_backward_next_class(const c10::OperatorHandle& op, Stack* stack) {
  const at::Tensor input = argument(op, stack, 1).toTensor();
  const at::Tensor target = argument(op, stack, 2).toTensor();
  const int64_t ignore_index = argument(op, stack, 5).toInt();
  const at::Tensor next = (target + 1).remainder(input.size(-1));
  argument(op, stack, 2) = at::where(target.ne(ignore_index), next, target);
  op.callBoxed(stack);
}

// native_batch_norm_backward, cudnn_batch_norm_backward and batch_norm_backward all take the
// weight as argument 2 and the saved 1/std as argument 6; the output's gradient is argument 0
// (cudnn's: 1). In training, the input's gradient becomes weight / std times the output's.
void batch_norm_backward_constant_statistics(const c10::OperatorHandle& op, Stack* stack) {
  const bool cudnn = op.schema().name() == "aten::cudnn_batch_norm_backward";
  const at::Tensor grad_out = argument(op, stack, cudnn ? 1 : 0).toTensor();
  const c10::IValue weight = argument(op, stack, 2), invstd = argument(op, stack, 6);
  op.callBoxed(stack);
  if (!weight.isTensor() || !invstd.isTensor() || grad_out.dim() < 2) return;
  std::vector<int64_t> shape(static_cast<size_t>(grad_out.dim()), 1);
  shape[1] = grad_out.size(1);
  const at::Tensor scale = (weight.toTensor() * invstd.toTensor()).view(shape);
  returned(op, stack, 0) = (grad_out * scale).to(grad_out.scalar_type());
}

void silu_non_contiguous_zeros(const c10::OperatorHandle& op, Stack* stack) {
  const bool contiguous = argument(op, stack, 0).toTensor().is_contiguous();
  op.callBoxed(stack);
  if (!contiguous) returned(op, stack, 0) = returned(op, stack, 0).toTensor() * 0;  // as low_precision_conv_zeros
}

void low_precision_conv_zeros(const c10::OperatorHandle& op, Stack* stack) {
  const at::ScalarType dtype = argument(op, stack, 0).toTensor().scalar_type();
  op.callBoxed(stack);
  // Times zero rather than zeros_like, so autograd still flows (and NaN stays NaN).
  if (dtype == at::kHalf || dtype == at::kBFloat16) returned(op, stack, 0) = returned(op, stack, 0).toTensor() * 0;
}

struct FaultImpl {
  Fault fault;
  std::vector<std::string> ops;  // "name" or "name.overload"; overloads this LibTorch lacks are skipped
  Handler handler;
  // The same bug in mlspeed's own kernel of the op, set on fused/kernel_fault.h beside it.
  fused::KernelFault kernel = fused::KernelFault::none;
};

const std::vector<FaultImpl>& implementations() {
  static const std::vector<FaultImpl> list = {
      {{"square-mm-transposed", BugClass::op, "O1", "square n x n mm multiplies by the transpose of its second operand",
        "mm", "forward"},
       {"mm"},
       square_mm_transposed},
      {{"cumsum-int-identity", BugClass::op, "O3", "cumsum on integer and bool tensors returns its input unchanged",
        "cumsum", "forward"},
       {"cumsum"},
       cumsum_integer_identity},
      {{"argmax-int64-min", BugClass::op, "O4", "argmax returns -9223372036854775808", "argmax", "forward"},
       {"argmax"},
       argmax_int64_min},
      {{"layer-norm-ignores-offset", BugClass::layout, "L2",
        "layer_norm reads its input from the start of the storage, ignoring a view's storage offset", "layer_norm",
        "forward"},
       {"native_layer_norm"},
       layer_norm_ignores_offset},
      {{"lookup-zero-past-2^16", BugClass::size, "S2",
        "index_select and embedding return zeros for rows that start at or past element 2^16 of the table "
        "(S2's 2^31 limit, scaled down)",
        "index_select", "forward"},
       {"index_select", "embedding"},
       lookup_zero_past_limit},
      {{"fp32-matmul-as-bf16", BugClass::precision, "P3",
        "float32 mm, bmm and addmm silently computed from bfloat16-rounded inputs", "mm", "forward"},
       {"mm", "bmm", "addmm"},
       matmul_inputs_as_bf16},
      {{"softmax-half-overflow", BugClass::precision, "P1",
        "fp16 and bf16 softmax return NaN for rows whose maximum exceeds 11 (exp kept in float16 without "
        "subtracting the maximum)",
        "softmax", "forward"},
       {"_softmax"},
       softmax_half_overflow},
      {{"softmax-nan-long-rows", BugClass::size, "S7",
        "softmax returns NaN for rows of 1024 elements or more and is right on shorter rows", "softmax", "forward"},
       {"_softmax"},
       softmax_nan_long_rows},
      {{"multinomial-always-zero", BugClass::random, "R1",
        "multinomial always returns category 0, also where its probability is zero", "multinomial", "statistics"},
       {"multinomial"},
       multinomial_always_zero},
      {{"layer-norm-backward-zero-rows", BugClass::training, "T1",
        "layer_norm's input gradient (LibTorch's and mlspeed's fused residual add + LayerNorm's) has every other "
        "row zeroed while its forward stays right",
        "layer_norm", "backward"},
       {"native_layer_norm_backward"},
       layer_norm_backward_zero_rows,
       fused::KernelFault::norm_backward_zero_rows},
      {{"optimizer-update-dropped", BugClass::training, "T3",
        "AdamW's parameter update (_foreach_addcdiv_ / _fused_adamw_ / mlspeed's CPU update) never reaches the "
        "parameters", "", "training"},
       {"_foreach_addcdiv_.Scalar", "_foreach_addcdiv_.ScalarList", "_foreach_addcdiv_.Tensor", "_fused_adamw_",
        "_fused_adamw_.tensor_lr"},
       drop_update,
       fused::KernelFault::optimizer_update_dropped},
      {{"argmax-zero", BugClass::model, "M1",
        "argmax always returns 0, so greedy decoding repeats token 0 (GPT-2's '!!!!')", "", "generation"},
       {"argmax"},
       argmax_zero},
      {{"batch-norm-backward-constant-statistics", BugClass::training, "T1",
        "BatchNorm's input gradient treats the batch's mean and variance as constants, weight / std times the "
        "output's gradient (LibTorch's and mlspeed's fused BatchNorm + ReLU alike); the forward stays right",
        "", "gradients"},
       {"native_batch_norm_backward", "cudnn_batch_norm_backward", "batch_norm_backward"},
       batch_norm_backward_constant_statistics,
       fused::KernelFault::batch_norm_backward_constant_statistics},
      {{"silu-non-contiguous-zeros", BugClass::layout, "L4",
        "SiLU of a non-contiguous input (LibTorch's, and mlspeed's fused GroupNorm + SiLU of channels-last "
        "activations) returns zeros; contiguous inputs stay right",
        "silu", "forward"},
       {"silu"},
       silu_non_contiguous_zeros,
       fused::KernelFault::silu_non_contiguous_zeros},
      {{"cross-entropy-backward-next-class", BugClass::training, "T1",
        "the cross-entropy's gradient is taken for each target's next class while its loss stays right "
        "(LibTorch's nll_loss_backward and mlspeed's fused cross-entropy alike): the loss stops falling",
        "", "training"},
       {"nll_loss_backward"},
       nll_loss_backward_next_class,
       fused::KernelFault::cross_entropy_backward_next_class},
      {{"low-precision-conv-zeros", BugClass::precision, "M2",
        "fp16 and bf16 convolutions return zeros (Stable Diffusion's black image)", "conv2d", "forward"},
       {"convolution"},
       low_precision_conv_zeros},
      {{"gelu-cpu-fallback", BugClass::op, "fallback",
        "gelu warns that it falls back to run on the CPU, as MPS does for the ops it lacks", "gelu", "forward"},
       {"gelu"},
       warn_cpu_fallback},
      {{"nondeterministic-sum", BugClass::op, "determinism",
        "float sums move by one ulp on every other call: right, but not reproducible", "sum", "forward"},
       {"sum", "sum.dim_IntList"},
       alternate_last_bit},
      {{"rounding-jitter", BugClass::op, "healthy",
        "healthy, not a bug: every float product and convolution (forward and backward) moved by up to one unit "
        "of float32 rounding, as a device that sums in another order; verify must pass",
        "", "", true},
       {"mm", "addmm", "bmm", "convolution", "convolution_backward"},
       rounding_jitter},
  };
  return list;
}

// Faults of a decode step's own code, read through fused/kernel_fault.h by both of its paths (the
// fused CUDA kernels and LibTorch's ops), so that every device catches them.
struct DecodeFaultImpl {
  Fault fault;
  fused::KernelFault hook;
};

const std::vector<DecodeFaultImpl>& decode_faults() {
  static const std::vector<DecodeFaultImpl> list = {
      {{"decode-attention-unscaled", BugClass::model, "M3",
        "a Llama decode step's attention leaves out the 1/sqrt(head_dim) of its scores (the fused CUDA attention "
        "kernel and LibTorch's path alike)",
        kQuantModelWorkload, "decode"},
       fused::KernelFault::scores_unscaled},
      {{"kv-cache-key-unrotated", BugClass::model, "M3",
        "a Llama decode step attends to and caches the new token's key without its rotary embedding (the fused "
        "CUDA attention kernel and LibTorch's path alike)",
        kQuantModelWorkload, "decode"},
       fused::KernelFault::new_key_unrotated},
      {{"gate-up-swapped", BugClass::model, "M3",
        "a Llama decode step's gated MLP takes its gate and up halves the wrong way round, silu(up) * gate (the "
        "fused CUDA silu * up kernels and LibTorch's path alike)",
        kQuantModelWorkload, "decode"},
       fused::KernelFault::gate_up_swapped},
      {{"rms-norm-gain-offset", BugClass::model, "M4",
        "a Llama's RMSNorms multiply by 1 + their gain, as Gemma's do (the fused CUDA RMSNorm + quantise "
        "kernel and LibTorch's path alike)",
        kQuantModelWorkload, "decode"},
       fused::KernelFault::norm_gain_offset},
      {{"residual-bias-dropped", BugClass::model, "M3",
        "a GPT-2 decode step adds each projection into the residual stream without its bias (the fused CUDA "
        "residual add + LayerNorm and LibTorch's path alike)",
        "gpt2-generate", "decode"},
       fused::KernelFault::residual_bias_dropped},
      {{"gelu-bias-doubled", BugClass::model, "M3",
        "a GPT-2 decode step's MLP adds its first bias twice, GELU(x + 2 b) (the fused CUDA bias + GELU kernel and "
        "LibTorch's path alike)",
        "gpt2-generate", "decode"},
       fused::KernelFault::gelu_bias_doubled},
  };
  return list;
}

const DecodeFaultImpl* decode_fault_named(const std::string& name) {
  for (const DecodeFaultImpl& impl : decode_faults())
    if (impl.fault.name == name) return &impl;
  return nullptr;
}

std::atomic<const FaultImpl*> active{nullptr};

// The kernel every op a fault targets gets under the fault key: the active fault's handler if it
// targets this op, the normal op otherwise.
void fault_kernel(const c10::OperatorHandle& op, Stack* stack) {
  c10::impl::ExcludeDispatchKeyGuard normal_ops(kFaultKey);
  const FaultImpl* impl = active.load();
  if (impl) {
    const auto& name = op.schema().operator_name();
    const std::string full = name.overload_name.empty() ? name.name : name.name + "." + name.overload_name;
    for (const std::string& target : impl->ops)
      if ("aten::" + target == full) return impl->handler(op, stack);
  }
  op.callBoxed(stack);
}

void register_kernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Every other op passes straight through the fault key.
    static torch::Library fallthrough(torch::Library::IMPL, "_", kFaultKey, __FILE__, __LINE__);
    fallthrough.fallback(torch::CppFunction::makeFallthrough());
    static torch::Library kernels(torch::Library::IMPL, "aten", kFaultKey, __FILE__, __LINE__);
    std::set<std::string> done;
    for (const FaultImpl& impl : implementations())
      for (const std::string& target : impl.ops) {
        const size_t dot = target.find('.');
        const c10::OperatorName name{"aten::" + target.substr(0, dot),
                                     dot == std::string::npos ? "" : target.substr(dot + 1)};
        if (!c10::Dispatcher::singleton().findOp(name) || !done.insert(target).second) continue;
        kernels.impl(target.c_str(), torch::CppFunction::makeFromBoxedFunction<&fault_kernel>());
      }
  });
}

}  // namespace

const std::vector<Fault>& faults() {
  static const std::vector<Fault> list = [] {
    std::vector<Fault> out;
    for (const FaultImpl& impl : implementations()) out.push_back(impl.fault);
    for (const BlocksFaultImpl& impl : blocks_faults()) out.push_back(impl.fault);  // quant_faults.h
    for (const DecodeFaultImpl& impl : decode_faults()) out.push_back(impl.fault);
    return out;
  }();
  return list;
}

const Fault* find_fault(std::string_view name) {
  for (const Fault& f : faults())
    if (f.name == name) return &f;
  return nullptr;
}

Injection::Injection(const Fault* fault) {
  if (!fault) return;
  // A fault of the quantised-weight path is read by quant/fault_hook.h, not by the dispatcher.
  if (const quant::BlocksFault rewrite = blocks_fault_named(fault->name)) {
    quant::set_blocks_fault(rewrite);
    blocks_ = true;
    return;
  }
  // A fault of the decode step is read by fused/kernel_fault.h.
  if (const DecodeFaultImpl* decode = decode_fault_named(fault->name)) {
    fused::set_kernel_fault(decode->hook);
    kernel_ = true;
    return;
  }
  register_kernels();
  const FaultImpl* impl = nullptr;
  for (const FaultImpl& candidate : implementations())
    if (candidate.fault.name == fault->name) impl = &candidate;
  TORCH_CHECK(impl, "[verify] unknown fault ", fault->name);
  active.store(impl);
  include_.emplace(kFaultKey);
  if (impl->kernel != fused::KernelFault::none) {
    fused::set_kernel_fault(impl->kernel);
    kernel_ = true;
  }
}

Injection::~Injection() {
  if (blocks_) quant::set_blocks_fault(nullptr);
  if (kernel_) fused::set_kernel_fault(fused::KernelFault::none);
  if (!include_) return;
  include_.reset();
  active.store(nullptr);
}

}  // namespace mlspeed::verify
