#include "mlspeed/data/transfer.h"

namespace mlspeed::data {

at::Tensor host_buffer(at::IntArrayRef sizes, at::ScalarType dtype, const c10::Device& device) {
  return at::empty(sizes, at::TensorOptions().dtype(dtype).pinned_memory(device.is_cuda()));
}

at::Tensor to_device(const at::Tensor& host, const c10::Device& device) {
  return host.to(device, /*non_blocking=*/device.is_cuda());  // page-locked then (host_buffer)
}

at::Tensor upload(const at::Tensor& host, const c10::Device& device) {
  if (!device.is_cuda()) return host.to(device);
  at::Tensor staged = host_buffer(host.sizes(), host.scalar_type(), device);
  staged.copy_(host);
  return to_device(staged, device);
}

}  // namespace mlspeed::data
