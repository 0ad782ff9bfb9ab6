// The CUDA backend of a LibTorch built without CUDA: no devices, no graphs, and nothing to call.
#include <c10/core/Device.h>

#include <stdexcept>

#include "mlspeed/device/cuda.h"
#include "mlspeed/device/graph.h"

namespace mlspeed::cuda {
namespace {
[[noreturn]] void unavailable() {
  throw std::logic_error("[cuda] this LibTorch was built without CUDA");
}
}  // namespace

bool built() { return false; }
int device_count() { return 0; }
DeviceFacts facts(int) { unavailable(); }
std::string runtime_version() { return ""; }
std::string cudnn_version() { return ""; }
void synchronize(int) { unavailable(); }
std::unique_ptr<Timer> make_event_timer(int) { unavailable(); }
void reset_peak_memory(int) { unavailable(); }
int64_t peak_memory(int) { unavailable(); }
void release_cached_memory() {}
int64_t free_memory(int) { unavailable(); }
std::string pci_bus_id(int) { return ""; }

}  // namespace mlspeed::cuda

namespace mlspeed {

std::optional<std::string> graphs_unavailable(const c10::Device& device) {
  if (!device.is_cuda()) return "CUDA graphs exist only on CUDA devices";
  return "this LibTorch was built without CUDA";
}

std::unique_ptr<GraphRecorder> make_graph_recorder(const c10::Device&) {
  throw std::logic_error("[graph] this LibTorch was built without CUDA");
}

}  // namespace mlspeed
