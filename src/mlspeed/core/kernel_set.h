// Whose kernels a configuration runs (`mlspeed run --kernels`): `mlspeed`, its own where it has
// them (the quantised-weight products of quant/, on the CPU and on CUDA) and LibTorch's for the
// rest; or `libtorch`, LibTorch's ops alone (quantised weights dequantised for LibTorch's
// matrix product), so that devices and machines can be compared on LibTorch's kernels, and
// mlspeed's own kernels against them. Every row records which.
//
// The choice is process-wide state, as TF32 is: KernelSetScope sets it for a configuration and
// puts the previous one back; the code that has a kernel of its own asks own_kernels().
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace mlspeed {

enum class KernelSet { mlspeed, libtorch };
inline constexpr std::array<KernelSet, 2> kAllKernelSets = {KernelSet::mlspeed, KernelSet::libtorch};

std::string_view name(KernelSet k);
std::optional<KernelSet> parse_kernel_set(std::string_view text);

// The kernel set in force now (KernelSet::mlspeed by default), and whether that is mlspeed's own.
KernelSet current_kernel_set();
bool own_kernels();

class KernelSetScope {
 public:
  explicit KernelSetScope(KernelSet k);
  ~KernelSetScope();
  KernelSetScope(const KernelSetScope&) = delete;
  KernelSetScope& operator=(const KernelSetScope&) = delete;

 private:
  KernelSet previous_;
};

}  // namespace mlspeed
