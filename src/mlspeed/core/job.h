#pragma once

#include <optional>
#include <string_view>

namespace mlspeed {

enum class Job { train, infer };

inline std::string_view name(Job job) { return job == Job::train ? "train" : "infer"; }
inline std::optional<Job> parse_job(std::string_view text) {
  if (text == "train") return Job::train;
  if (text == "infer") return Job::infer;
  return std::nullopt;
}

}  // namespace mlspeed
