// Small helpers the tests share (one copy, so that a unity build of the tests sees one definition).
#pragma once

#include <string>
#include <vector>

namespace mlspeed::testing {

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `args` followed by `more`: a base command line with a test's own options.
inline std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace mlspeed::testing
