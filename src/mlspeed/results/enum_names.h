// How the enums that more than one row type holds are stored: by name (results/field_list.h's
// EnumNames). Declared once here, so that every field list that holds them agrees.
#pragma once

#include <optional>
#include <string_view>

#include "mlspeed/core/precision.h"
#include "mlspeed/results/field_list.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

template <> struct EnumNames<Precision> {
  static std::optional<Precision> parse(std::string_view text) { return parse_precision(text); }
  static constexpr const auto& values = kAllPrecisions;
};
template <> struct EnumNames<ModelFormat> {
  static std::optional<ModelFormat> parse(std::string_view text) { return parse_model_format(text); }
  static constexpr const auto& values = kAllModelFormats;
};
template <> struct EnumNames<Status> {
  static std::optional<Status> parse(std::string_view text) { return parse_status(text); }
  static constexpr const auto& values = kAllStatuses;
};

}  // namespace mlspeed
