#include "mlspeed/parallel/process_groups.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>

#include <stdexcept>
#include <vector>

#include "mlspeed/compat/torch_compat.h"

#if MLSPEED_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if MLSPEED_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace mlspeed::parallel {

std::string group_unavailable(c10::DeviceType device) {
  if (device == c10::kCUDA) {
#if MLSPEED_HAS_NCCL
    return "";
#else
    return "this mlspeed was built without NCCL (nccl.h was not found beside LibTorch): data-parallel training on "
           "CUDA needs it";
#endif
  }
  if (device == c10::kCPU) {
#if MLSPEED_HAS_GLOO
    return "";
#else
    return "this mlspeed was built without Gloo (Debian: apt-get install libgloo-dev, then rebuild): data-parallel "
           "training on the CPU needs it";
#endif
  }
  return "data-parallel training runs on CUDA GPUs (NCCL) and the CPU (Gloo), not on " + c10::DeviceTypeName(device);
}

c10::intrusive_ptr<c10d::ProcessGroup> make_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                   c10::DeviceType device, std::chrono::milliseconds timeout) {
  if (const std::string why = group_unavailable(device); !why.empty()) throw std::runtime_error(why);
#if MLSPEED_HAS_NCCL
  if (device == c10::kCUDA) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
    return compat::process_group<c10d::ProcessGroup>(store, rank, size, nccl, device, "nccl");
  }
#endif
#if MLSPEED_HAS_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->timeout = timeout;
  options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
  return compat::process_group<c10d::ProcessGroup>(store, rank, size, gloo, device, "gloo");
#else
  throw std::runtime_error(group_unavailable(device));
#endif
}

c10::intrusive_ptr<c10d::ProcessGroup> join_group(const RankPlace& place, c10::DeviceType device,
                                                   std::chrono::milliseconds timeout) {
  if (const std::string why = group_unavailable(device); !why.empty()) throw std::runtime_error(why);
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::FileStore>(place.rendezvous, place.world_size);
  store->setTimeout(timeout);
  return make_group(store, place.rank, place.world_size, device, timeout);
}

bool every_rank_says(c10d::ProcessGroup& group, bool yes, const at::TensorOptions& options) {
  std::vector<at::Tensor> flag{at::full({1}, yes ? 1.0 : 0.0, options)};
  c10d::AllreduceOptions min;
  min.reduceOp = c10d::ReduceOp::MIN;
  group.allreduce(flag, min)->wait();
  return flag.front().item<double>() > 0.5;
}

}  // namespace mlspeed::parallel
