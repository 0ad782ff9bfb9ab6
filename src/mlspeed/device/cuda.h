// The CUDA backend. cuda.cpp implements it when LibTorch has CUDA; cuda_none.cpp otherwise
// (the build picks one; nothing else in mlspeed needs CUDA headers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mlspeed/device/device.h"
#include "mlspeed/device/timer.h"

namespace mlspeed::cuda {

bool built();  // whether this LibTorch was built with CUDA
int device_count();
DeviceFacts facts(int index);  // name, memory, compute capability, multiprocessors, driver
std::string runtime_version();  // "13.0"; empty without CUDA
std::string cudnn_version();    // "9.19.0"; empty without cuDNN
void synchronize(int index);
std::unique_ptr<Timer> make_event_timer(int index);
void reset_peak_memory(int index);
int64_t peak_memory(int index);  // bytes allocated at peak since the last reset
void release_cached_memory();
// Memory a new allocation could get: the driver's free memory plus what the caching allocator
// holds without using.
int64_t free_memory(int index);
// The device's PCI bus id ("0000:19:00.0"), how NVML finds the same GPU whatever
// CUDA_VISIBLE_DEVICES renumbers; empty when it cannot be read.
std::string pci_bus_id(int index);

}  // namespace mlspeed::cuda
