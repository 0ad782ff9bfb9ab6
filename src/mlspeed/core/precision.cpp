#include "mlspeed/core/precision.h"

namespace mlspeed {

std::string_view name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view text) {
  for (Precision p : kAllPrecisions)
    if (name(p) == text) return p;
  return std::nullopt;
}

std::string precision_choices() {
  std::string out;
  for (Precision p : kAllPrecisions) out += (out.empty() ? "" : ", ") + std::string(name(p));
  return out;
}

}  // namespace mlspeed
