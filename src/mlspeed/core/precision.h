// The numeric modes a workload can be timed in. `tf32` is float32 storage with TF32 tensor-core
// matrix products; fp16/bf16 mean autocast mixed precision for training and a model cast to
// that dtype for inference.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlspeed {

enum class Precision { fp32, tf32, fp16, bf16 };

inline constexpr std::array<Precision, 4> kAllPrecisions = {Precision::fp32, Precision::tf32,
                                                            Precision::fp16, Precision::bf16};

std::string_view name(Precision p);
std::optional<Precision> parse_precision(std::string_view text);
std::string precision_choices();  // "fp32, tf32, fp16, bf16"
// Bytes per element of the tensors computed in this precision: 2 for fp16/bf16, else 4.
inline int64_t compute_bytes(Precision p) { return p == Precision::fp16 || p == Precision::bf16 ? 2 : 4; }

}  // namespace mlspeed
