// The numeric modes a workload can be timed in, and everything each one means, derived from one
// table (precision.cpp) so that no workload, command or check spells a rule out again:
//
//   name  aliases           model dtype  autocast  TF32  bytes
//   fp32  float32           float32      -         no    4
//   tf32  -                 float32      -         yes   4
//   fp16  float16, half     float16      float16   no    2     (training scales the loss)
//   bf16  bfloat16          bfloat16     bfloat16  no    2
//
// Inference casts the model to the model dtype; training keeps float32 weights and autocasts
// the forward to the autocast dtype. `tf32` is float32 storage with TF32 tensor-core matrix
// products and convolutions (set for a configuration by device/precision_flags.h's Tf32Scope).
#pragma once

#include <c10/core/ScalarType.h>  // the enum alone: no ATen operator headers here

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlspeed {

enum class Precision { fp32, tf32, fp16, bf16 };

inline constexpr std::array<Precision, 4> kAllPrecisions = {Precision::fp32, Precision::tf32,
                                                            Precision::fp16, Precision::bf16};

// The one spelling used in results, tables and file names.
std::string_view name(Precision p);
// The long names also read as it (float32; float16, half; bfloat16; none for tf32).
std::vector<std::string_view> aliases(Precision p);
// Accepts the name or one of its long aliases (float32, float16, half, bfloat16; tf32 has none).
std::optional<Precision> parse_precision(std::string_view text);
std::string precision_choices();  // "fp32, tf32, fp16, bf16"
// A comma list of names or aliases (-t, --model-dtypes), as the names; throws UsageError naming
// `option` for an unknown item or one listed twice under two spellings ("bf16,bfloat16").
std::vector<std::string> parse_precision_list(std::string_view text, std::string_view option);

// The dtype an inference model is cast to: float32 for fp32 and tf32.
c10::ScalarType model_dtype(Precision p);
// The dtype a training forward autocasts to; none for fp32 and tf32 (plain float32).
std::optional<c10::ScalarType> autocast_dtype(Precision p);
// Whether training scales the loss (a GradScaler): float16's narrow exponent underflows small
// gradients; bfloat16 has float32's range.
bool scales_loss(Precision p);
// Whether float32 matrix products and convolutions may use TF32 tensor cores.
bool allows_tf32(Precision p);
// Bytes per element of the tensors computed in this precision (the model dtype's size).
int64_t bytes_per_element(Precision p);

}  // namespace mlspeed
