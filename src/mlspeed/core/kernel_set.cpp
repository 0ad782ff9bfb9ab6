#include "mlspeed/core/kernel_set.h"

#include <atomic>

namespace mlspeed {
namespace {

std::atomic<KernelSet> kernel_set_in_force{KernelSet::mlspeed};

}  // namespace

std::string_view name(KernelSet k) { return k == KernelSet::mlspeed ? "mlspeed" : "libtorch"; }

std::optional<KernelSet> parse_kernel_set(std::string_view text) {
  for (KernelSet k : kAllKernelSets)
    if (name(k) == text) return k;
  return std::nullopt;
}

KernelSet current_kernel_set() { return kernel_set_in_force.load(); }

bool own_kernels() { return current_kernel_set() == KernelSet::mlspeed; }

KernelSetScope::KernelSetScope(KernelSet k) : previous_(kernel_set_in_force.exchange(k)) {}

KernelSetScope::~KernelSetScope() { kernel_set_in_force.store(previous_); }

}  // namespace mlspeed
