#include "mlspeed/core/precision.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed {
namespace {

// The one table every rule below is read from (see the header).
struct Row {
  std::string_view name;
  std::array<std::string_view, 2> aliases;  // empty entries unused
  c10::ScalarType dtype;
  bool tf32;
};

const Row& row(Precision p) {
  static constexpr Row kRows[] = {
      {"fp32", {"float32", ""}, c10::ScalarType::Float, false},
      {"tf32", {"", ""}, c10::ScalarType::Float, true},
      {"fp16", {"float16", "half"}, c10::ScalarType::Half, false},
      {"bf16", {"bfloat16", ""}, c10::ScalarType::BFloat16, false},
  };
  return kRows[static_cast<size_t>(p)];
}

}  // namespace

std::string_view name(Precision p) { return row(p).name; }

std::vector<std::string_view> aliases(Precision p) {
  std::vector<std::string_view> out;
  for (std::string_view alias : row(p).aliases)
    if (!alias.empty()) out.push_back(alias);
  return out;
}

std::optional<Precision> parse_precision(std::string_view text) {
  for (Precision p : kAllPrecisions) {
    const std::vector<std::string_view> long_names = aliases(p);
    if (name(p) == text || std::find(long_names.begin(), long_names.end(), text) != long_names.end()) return p;
  }
  return std::nullopt;
}

std::string precision_choices() {
  std::string out;
  for (Precision p : kAllPrecisions) out += (out.empty() ? "" : ", ") + std::string(name(p));
  return out;
}

std::vector<std::string> parse_precision_list(std::string_view text, std::string_view option) {
  std::vector<std::string> names;
  for (const std::string& item : split_list(text, option)) {
    const std::optional<Precision> p = parse_precision(item);
    if (!p)
      throw UsageError(std::string(option) + ": unknown value '" + item + "'; choose from: " + precision_choices());
    const std::string canonical(name(*p));
    if (std::find(names.begin(), names.end(), canonical) != names.end())
      throw UsageError(std::string(option) + ": '" + item + "' is " + canonical + ", already listed");
    names.push_back(canonical);
  }
  return names;
}

c10::ScalarType model_dtype(Precision p) { return row(p).dtype; }

std::optional<c10::ScalarType> autocast_dtype(Precision p) {
  if (model_dtype(p) == c10::ScalarType::Float) return std::nullopt;
  return model_dtype(p);
}

bool scales_loss(Precision p) { return autocast_dtype(p) == c10::ScalarType::Half; }

bool allows_tf32(Precision p) { return row(p).tf32; }

int64_t bytes_per_element(Precision p) { return static_cast<int64_t>(c10::elementSize(model_dtype(p))); }

}  // namespace mlspeed
