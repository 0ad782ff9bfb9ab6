// AdamW with parameter groups, as nanoGPT configures it, plus gradient-norm clipping; both run
// without a host synchronisation so that a timed training step is one stream of device work.
//
// The update is torch.optim.AdamW's (decoupled weight decay, bias-corrected moments):
//   p  <- p * (1 - lr * wd)
//   m  <- b1 * m + (1 - b1) * g          v <- b2 * v + (1 - b2) * g^2
//   p  <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Where LibTorch has the single-kernel AdamW for the device (compat::fused_adamw_available) it
// runs that, with per-parameter step counts as float32 0-d device tensors (PyTorch's layout); on a
// CPU without it, with mlspeed's kernels in force (core/kernel_set.h) and dense float32 tensors,
// mlspeed's one-pass update (train/adamw_cpu.h); otherwise the same arithmetic as a
// handful of _foreach_* kernels per group.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace mlspeed::train {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct ParamGroup {
  std::vector<at::Tensor> params;
  double weight_decay = 0.0;
};

// nanoGPT's configure_optimizers: tensors of rank >= 2 (matrices, embeddings) are decayed;
// biases and LayerNorm gains are not. Empty groups are left out.
std::vector<ParamGroup> weight_decay_groups(const std::vector<at::Tensor>& params, double weight_decay);

class AdamW {
 public:
  // Every parameter must live on one device, in one dtype; the path (fused or foreach) is
  // chosen here from that device.
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options);

  // Drops every gradient (set_to_none), so the next backward writes instead of accumulating.
  void zero_grad();
  // One update of every parameter that has a gradient. When `found_inf` (a 0-d tensor on the
  // parameters' device) is non-zero, nothing changes, step counts included. The fused kernel
  // reads it on the device; the foreach path reads it on the host (one synchronisation).
  void step(const std::optional<at::Tensor>& found_inf = std::nullopt);

  bool fused() const { return fused_; }
  const AdamWOptions& options() const { return options_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }

 private:
  struct State {
    at::Tensor exp_avg;  // undefined until the parameter's first step
    at::Tensor exp_avg_sq;
    at::Tensor step;    // fused path: float32 0-d tensor on the device
    int64_t steps = 0;  // foreach path: host counter
  };
  // The parameters of one group that have a gradient, with their state.
  struct Batch {
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    std::vector<State*> states;
  };
  Batch gather(size_t group);
  void step_fused(Batch& batch, double weight_decay, const std::optional<at::Tensor>& found_inf);
  void step_foreach(Batch& batch, double weight_decay);
  static bool cpu_pass_takes(const Batch& batch);
  void step_cpu_pass(Batch& batch, double weight_decay);

  std::vector<ParamGroup> groups_;
  std::vector<std::vector<State>> states_;  // states_[g][i] belongs to groups_[g].params[i]
  AdamWOptions options_;
  bool fused_ = false;
};

// Scales the gradients of `params` in place so that their joint L2 norm is at most `max_norm`
// (torch.nn.utils.clip_grad_norm_): coefficient max_norm / (norm + 1e-6), clamped to 1, kept as
// a 0-d device tensor. Returns the norm before clipping, unread (no synchronisation).
at::Tensor clip_grad_norm_(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace mlspeed::train
