// Host-to-device copies of the batches that real data sets load inside a timed step: through
// page-locked memory on CUDA, so the copy is asynchronous, and the caching host allocator hands
// a buffer out again only once the copy reading it has finished.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

namespace mlspeed::data {

// A host tensor to build a batch in before copying it to `device`: page-locked when the device
// is a CUDA GPU.
at::Tensor host_buffer(at::IntArrayRef sizes, at::ScalarType dtype, const c10::Device& device);
// The copy of a host_buffer on `device` (non-blocking from page-locked memory).
at::Tensor to_device(const at::Tensor& host, const c10::Device& device);
// The copy of any host tensor on `device`, staged through a host_buffer on CUDA.
at::Tensor upload(const at::Tensor& host, const c10::Device& device);

}  // namespace mlspeed::data
