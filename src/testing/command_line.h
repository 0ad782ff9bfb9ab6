// A command line parsed as the binary parses it (cli::parse_arguments), with nothing run: for the
// option tables' tests.
#pragma once

#include <string>
#include <vector>

#include "cli/app.h"
#include "mlspeed/core/errors.h"

namespace mlspeed::testing {

// `words` after "mlspeed", e.g. {"compare", "1", "2"}.
inline cli::Invocation parse_command_line(std::vector<std::string> words) {
  words.insert(words.begin(), "mlspeed");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return cli::parse_arguments(static_cast<int>(argv.size()), argv.data());
}

// The UsageError's message, or `accepted` when the command line parses.
inline std::string usage_error(const std::vector<std::string>& words, const std::string& accepted = "no error") {
  try {
    parse_command_line(words);
  } catch (const UsageError& e) {
    return e.what();
  }
  return accepted;
}

}  // namespace mlspeed::testing
