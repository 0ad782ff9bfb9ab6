#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace mlspeed {

enum class Job { train, infer };
inline constexpr std::array<Job, 2> kAllJobs = {Job::train, Job::infer};

inline std::string_view name(Job job) { return job == Job::train ? "train" : "infer"; }
inline std::optional<Job> parse_job(std::string_view text) {
  if (text == "train") return Job::train;
  if (text == "infer") return Job::infer;
  return std::nullopt;
}

}  // namespace mlspeed
