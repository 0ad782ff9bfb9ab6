#include "mlspeed/fused/kernel_fault.h"

namespace mlspeed::fused {
namespace {

thread_local KernelFault thread_kernel_fault = KernelFault::none;

}  // namespace

void set_kernel_fault(KernelFault fault) { thread_kernel_fault = fault; }
KernelFault kernel_fault() { return thread_kernel_fault; }

}  // namespace mlspeed::fused
