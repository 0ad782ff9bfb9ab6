// The verifier's hook into mlspeed's own kernels (mlspeed verify --inject-fault, verify/faults.h):
// the one place where a fault of a fused step's own code enters.
// - A Llama decode step's faults: both paths of the step read them, so that the same bug is
//   caught on every device: the fused attention, silu * up and RMSNorm kernels of CUDA
//   (fused/cuda/decode_attention.cu, silu_mul.cu, rms_norm_quantize.cu, decode_product.cu) and
//   LibTorch's ops elsewhere (models/llama.cpp); a GPT-2 decode step's likewise (the decode
//   product's bias, GELU and residual add, fused/cuda/register.cu; models/gpt2.cpp).
// - The fused residual add + LayerNorm's (fused/residual_layer_norm.h), GroupNorm + SiLU's
//   (fused/group_norm.h), cross-entropy's (fused/cross_entropy.h) and BatchNorm's
//   (fused/batch_norm.h): each set beside the dispatcher fault that breaks LibTorch's op the same
//   way, so that a step is wrong on whichever path it takes.
// Thread-local: the verifier's reference runs outside the fault's scope on the same thread, and
// other threads never see it (an autograd node that reads it in backward, which runs on another
// thread on CUDA, records it in forward). Without a fault set a step pays one thread-local read.
#pragma once

namespace mlspeed::fused {

enum class KernelFault {
  none,
  // The attention's scores q.k leave out their 1 / sqrt(head_dim): a softmax up to sqrt(head_dim)
  // times too sharp, plausible numbers all the same.
  scores_unscaled,
  // The new token's key attended to and cached without its rotary embedding: every later step's
  // query meets it at no position (lucidrains/x-transformers#219's symptom).
  new_key_unrotated,
  // The residual norm's backward leaves out the norm's gradient on every other row (the stream's
  // own gradient still passes): the forward and the loss stay right.
  norm_backward_zero_rows,
  // The fused GroupNorm + SiLU of channels-last activations writes zeros where SiLU's outputs go
  // (set beside the dispatcher fault that makes LibTorch's SiLU of a non-contiguous input zeros).
  silu_non_contiguous_zeros,
  // The fused cross-entropy's backward takes the gradient for each target's next class while the
  // loss stays right (set beside the dispatcher fault that does it to LibTorch's nll_loss_backward).
  cross_entropy_backward_next_class,
  // The fused BatchNorm's backward treats the batch's mean and variance as constants: dx = weight
  // / std dy, without the terms of the batch statistics' own gradients.
  batch_norm_backward_constant_statistics,
  // A Llama decode step's gated MLP takes its gate and up halves the wrong way round: silu(up) *
  // gate (a fused SwiGLU's packing order is the kind of contract a kernel and its callers disagree
  // on: flashinfer-ai/flashinfer#4130). Read by the fused silu * up kernels and LibTorch's path.
  gate_up_swapped,
  // A Llama's RMSNorm multiplies by 1 + its gain, Gemma's convention (Gemma stores the gain less
  // one), where Llama means the gain itself: a norm kernel shared between model families taking the
  // other family's convention (linkedin/Liger-Kernel#74 shipped it the other way round). Read by
  // the fused RMSNorm + quantise kernel, the fused decode product's RMSNorm and RMSNorm's LibTorch path
  // (models/llama.cpp).
  norm_gain_offset,
  // A GPT-2 decode step adds each projection into the residual stream without its bias, the fused
  // add-bias-residual-LayerNorm mixing up the operands it adds (NVIDIA/FasterTransformer#466 fixed
  // such a kernel, which added the wrong value). Read by the fused decode product's entry
  // (fused/cuda/register.cu), for a product added into the stream, and GPT-2's LibTorch decode path
  // (models/gpt2.cpp).
  residual_bias_dropped,
  // A GPT-2 decode step's MLP adds its first bias twice, GELU(x + 2 b) (xformers' FusedMLP doubled
  // its bias: facebookresearch/xformers#317). Read by the fused decode product (its bias before
  // GELU, fused/cuda/decode_product.cu) and GPT-2's LibTorch decode path.
  gelu_bias_doubled,
  // AdamW's parameter update never reaches the parameters (the moments still move). Read by
  // mlspeed's one-pass CPU update (train/adamw_cpu.h), set beside the dispatcher fault that drops
  // LibTorch's _foreach_addcdiv_ and _fused_adamw_.
  optimizer_update_dropped,
};

// Sets the fault for the calling thread (KernelFault::none clears it).
void set_kernel_fault(KernelFault fault);
KernelFault kernel_fault();

// Sets a fault for the calling thread while alive, then puts back the one before.
class KernelFaultScope {
 public:
  explicit KernelFaultScope(KernelFault fault) : before_(kernel_fault()) { set_kernel_fault(fault); }
  ~KernelFaultScope() { set_kernel_fault(before_); }
  KernelFaultScope(const KernelFaultScope&) = delete;
  KernelFaultScope& operator=(const KernelFaultScope&) = delete;

 private:
  KernelFault before_;
};

}  // namespace mlspeed::fused
