// The one place where LibTorch versions differ. mlspeed builds against Debian's LibTorch 1.13
// (CPU) and LibTorch 2.x (CUDA, MPS); every version test lives in this header and nowhere else.
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <c10/util/Exception.h>

#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#define MLSPEED_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

#if MLSPEED_TORCH_AT_LEAST(2, 1)
#include <torch/mps.h>
#endif

namespace mlspeed::compat {

// Scaled dot-product attention on (batch, heads, seq, head_dim) tensors. LibTorch 2.x picks a
// fused kernel (flash / memory-efficient / cuDNN); 1.13 only has the private composite version.
// `attn_mask` is additive (float, broadcastable to (batch, heads, q_len, k_len)): both versions
// add it to the scores; boolean masks are left out because 1.13 and 2.x read them differently
// at the edges. 1.13 refuses a mask together with is_causal.
inline at::Tensor sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool is_causal,
                       double dropout_p, const c10::optional<at::Tensor>& attn_mask = c10::nullopt) {
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  return at::scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal);
#else
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, attn_mask, dropout_p,
                                                       /*need_attn_weights=*/false, is_causal));
#endif
}

// Whether autocast can run this device type in this dtype at all.
inline bool autocast_supports(c10::DeviceType device, at::ScalarType dtype) {
  if (device == c10::DeviceType::CUDA) return dtype == at::kHalf || dtype == at::kBFloat16;
  if (device == c10::DeviceType::CPU) {
#if MLSPEED_TORCH_AT_LEAST(2, 4)
    return dtype == at::kHalf || dtype == at::kBFloat16;
#else
    return dtype == at::kBFloat16;  // 1.13's CPU autocast knows bfloat16 only
#endif
  }
#if MLSPEED_TORCH_AT_LEAST(2, 5)
  if (device == c10::DeviceType::MPS) return dtype == at::kHalf || dtype == at::kBFloat16;
#endif
  return false;
}

// Turns autocast on or off for one device type; returns whether it was on before.
inline bool set_autocast(c10::DeviceType device, bool enabled, at::ScalarType dtype) {
#if MLSPEED_TORCH_AT_LEAST(2, 4)
  const bool before = at::autocast::is_autocast_enabled(device);
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::set_autocast_enabled(device, enabled);
  return before;
#else
  if (device == c10::DeviceType::CUDA) {
    const bool before = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
    return before;
  }
  const bool before = at::autocast::is_cpu_enabled();
  at::autocast::set_autocast_cpu_dtype(dtype);
  at::autocast::set_cpu_enabled(enabled);
  return before;
#endif
}

// Whether autocast is on for one device type, and the dtype it casts to (the state that
// set_autocast changes, so that a guard can restore it).
inline bool autocast_enabled(c10::DeviceType device) {
#if MLSPEED_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
inline at::ScalarType autocast_dtype(c10::DeviceType device) {
#if MLSPEED_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline bool tf32_matmul_enabled() { return at::globalContext().allowTF32CuBLAS(); }

// cuBLAS reduced-precision reductions (PyTorch's allow_fp16/bf16_reduced_precision_reduction):
// whether float16 / bfloat16 matrix products may sum split-K partial results in their own
// precision instead of float32. LibTorch before 2.0 has the float16 flag only (nullopt for
// bfloat16); newer versions return an option (reduced precision and split-K) instead of a bool.
namespace detail {
template <typename Option>
bool reduced_precision_allowed(Option option) {
  if constexpr (std::is_same_v<Option, bool>) return option;
  else return option == Option::AllowReducedPrecisionWithSplitK;
}
}  // namespace detail
inline bool fp16_reduced_precision_reduction() {
  return detail::reduced_precision_allowed(at::globalContext().allowFP16ReductionCuBLAS());
}
inline std::optional<bool> bf16_reduced_precision_reduction() {
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  return detail::reduced_precision_allowed(at::globalContext().allowBF16ReductionCuBLAS());
#else
  return std::nullopt;
#endif
}
inline void set_reduced_precision_reductions(bool allowed) {
  at::globalContext().setAllowFP16ReductionCuBLAS(allowed);
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  at::globalContext().setAllowBF16ReductionCuBLAS(allowed);
#endif
}

inline bool mps_available() {
#if MLSPEED_TORCH_AT_LEAST(2, 1)
  return torch::mps::is_available();
#else
  return false;  // no C++ MPS API before 2.1
#endif
}
inline void mps_synchronize() {
#if MLSPEED_TORCH_AT_LEAST(2, 1)
  torch::mps::synchronize();
#endif
}

// Initialises CUDA (and its caching allocator) in this process, as Python's torch.cuda does on
// first use; allocator statistics are unavailable before.
// RMSNorm as one kernel where LibTorch has one (CUDA, 2.9 and newer: at::rms_norm dispatches to
// _fused_rms_norm): x * rsqrt(mean(x^2) + eps) * weight in float32, rounded once to x's dtype.
// Empty where only the composite exists; callers then spell it out.
inline std::optional<at::Tensor> fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
#if MLSPEED_TORCH_AT_LEAST(2, 9)
  if (x.is_cuda() && x.scalar_type() == weight.scalar_type()) {
    const int64_t last = x.size(-1);
    return at::rms_norm(x, at::IntArrayRef(&last, 1), weight, eps);
  }
#endif
  (void)x, (void)weight, (void)eps;
  return std::nullopt;
}

inline void lazy_init_cuda() {
#if MLSPEED_TORCH_AT_LEAST(2, 6)
  at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);
#else
  at::globalContext().lazyInitCUDA();
#endif
}

// The single-kernel AdamW (decoupled weight decay). CUDA since 2.0, CPU since 2.4.
inline bool fused_adamw_available(c10::DeviceType device) {
#if MLSPEED_TORCH_AT_LEAST(2, 4)
  return device == c10::DeviceType::CUDA || device == c10::DeviceType::CPU;
#elif MLSPEED_TORCH_AT_LEAST(2, 0)
  return device == c10::DeviceType::CUDA;
#else
  (void)device;
  return false;
#endif
}

// Precondition: fused_adamw_available(). `steps` are float32 scalars already incremented;
// when `found_inf` is non-zero the kernel leaves every tensor untouched.
inline void fused_adamw(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                        at::TensorList exp_avg_sqs, at::TensorList steps, double lr, double beta1,
                        double beta2, double weight_decay, double eps,
                        const c10::optional<at::Tensor>& found_inf) {
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, beta1,
                    beta2, weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false,
                    /*grad_scale=*/c10::nullopt, found_inf);
#else
  (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps, (void)lr, (void)beta1,
      (void)beta2, (void)weight_decay, (void)eps, (void)found_inf;
  TORCH_CHECK(false, "[compat] fused AdamW needs LibTorch 2.0 or newer");
#endif
}

// tensors[i] *= scale, with `scale` a 0-d tensor (no host synchronisation).
inline void foreach_mul_(at::TensorList tensors, const at::Tensor& scale) {
#if MLSPEED_TORCH_AT_LEAST(2, 1)
  at::_foreach_mul_(tensors, scale);
#else
  for (const auto& t : tensors) t.mul_(scale);  // in-place ops are const on at::Tensor
#endif
}

// A LibTorch warning handler that hands each warning's text to `on_warning`. 2.0 passes a
// c10::Warning object and moved the handler functions to c10::WarningUtils (one handler per
// thread there; one per process in 1.13).
class WarningCollector : public c10::WarningHandler {
 public:
  virtual void on_warning(const std::string& message) = 0;
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  void process(const c10::Warning& warning) override { on_warning(warning.msg()); }
#else
  void process(const c10::SourceLocation&, const std::string& msg, bool) override { on_warning(msg); }
#endif
};
#if MLSPEED_TORCH_AT_LEAST(2, 0)
namespace warning_utils = ::c10::WarningUtils;
#else
namespace warning_utils = ::c10::Warning;
#endif
// While alive: warnings go to `handler`, and TORCH_WARN_ONCE warns every time (a fallback
// warning must be seen by every check, not only the first).
class WarningCapture {
 public:
  explicit WarningCapture(WarningCollector* handler)
      : previous_(warning_utils::get_warning_handler()), warn_always_(warning_utils::get_warnAlways()) {
    warning_utils::set_warning_handler(handler);
    warning_utils::set_warnAlways(true);
  }
  ~WarningCapture() {
    warning_utils::set_warnAlways(warn_always_);
    warning_utils::set_warning_handler(previous_);
  }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;

 private:
  c10::WarningHandler* previous_;
  bool warn_always_;
};

// A profiler event's start and duration in microseconds. LibTorch 1.13's KinetoEvent counts
// microseconds (startUs, durationUs); 2.x counts nanoseconds (startNs, durationNs), and its
// durationUs is a field only the mobile profiler fills. Chosen by what the type has, not by
// version number, since the change landed between releases.
template <class Event, class = void>
struct EventCountsNs : std::false_type {};
template <class Event>
struct EventCountsNs<Event, std::void_t<decltype(std::declval<const Event&>().durationNs())>> : std::true_type {};

template <class Event>
double event_start_us(const Event& e) {
  if constexpr (EventCountsNs<Event>::value) return static_cast<double>(e.startNs()) / 1e3;
  else return static_cast<double>(e.startUs());
}
template <class Event>
double event_duration_us(const Event& e) {
  if constexpr (EventCountsNs<Event>::value) return static_cast<double>(e.durationNs()) / 1e3;
  else return static_cast<double>(e.durationUs());
}

// A c10d process group whose collectives on `device_type` run on `backend` (a ProcessGroupGloo or
// ProcessGroupNCCL made by the caller; `name` "gloo" or "nccl"). From LibTorch 2.0 such a backend is
// a c10d::Backend that a c10d::ProcessGroup dispatches to by device type (its constructor took
// Options naming the backend, later a default backend set afterwards); in 1.13 the backend was the
// process group itself. Group is c10d::ProcessGroup, a template parameter so that this header
// needs none of c10d's headers.
template <class Group, class Backend, class Store>
c10::intrusive_ptr<Group> process_group(const c10::intrusive_ptr<Store>& store, int rank, int size,
                                        const c10::intrusive_ptr<Backend>& backend, c10::DeviceType device_type,
                                        const std::string& name) {
#if MLSPEED_TORCH_AT_LEAST(2, 0)
  const auto type = name == "nccl" ? Group::BackendType::NCCL : Group::BackendType::GLOO;
  c10::intrusive_ptr<Group> group;
  if constexpr (std::is_constructible_v<Group, const c10::intrusive_ptr<Store>&, int, int>) {
    group = c10::make_intrusive<Group>(store, rank, size);
    group->setDefaultBackend(type);
  } else {
    group = c10::make_intrusive<Group>(store, rank, size, c10::make_intrusive<typename Group::Options>(name));
  }
  group->setBackend(device_type, type, backend);
  return group;
#else
  (void)store, (void)rank, (void)size, (void)device_type, (void)name;
  return backend;
#endif
}

}  // namespace mlspeed::compat
