// Shared by the libFuzzer targets: a temporary folder per process (the readers take paths), the
// fuzz input split into files, the errors a reader documents for bad input, and a check that
// fails loudly when a reader accepts something it should not have.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"

namespace mlspeed::fuzz {

// This process's own folder under $TMPDIR (scripts/fuzz.sh points it into build-fuzz/), removed
// at a normal exit; a crashed run leaves it behind for inspection.
inline const std::string& temp_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/mlspeed-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string removed_at_exit;
    removed_at_exit = pattern;
    std::atexit([] { remove_tree(removed_at_exit); });
    return pattern;
  }();
  return dir;
}

// Writes `bytes` to `path`, aborting (a harness bug, not a finding) when it cannot.
inline void write_file(const std::string& path, std::string_view bytes) {
  const std::string why = write_whole_file(path, std::string(bytes));
  if (!why.empty()) {
    std::fprintf(stderr, "fuzz harness: cannot write %s: %s\n", path.c_str(), why.c_str());
    std::abort();
  }
}

// The input cut at every `separator` byte into at most `max_parts` parts (the last part keeps
// any further separators).
inline std::vector<std::string_view> split(const uint8_t* data, size_t size, char separator, size_t max_parts) {
  std::vector<std::string_view> parts;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (parts.size() + 1 < max_parts) {
    const size_t at = rest.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  parts.push_back(rest);
  return parts;
}

// A reader accepted input that breaks its own promise: a finding.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
  std::abort();
}
#define MLSPEED_FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::mlspeed::fuzz::broken(#condition " (" __FILE__ ":" MLSPEED_FUZZ_STR(__LINE__) ")"))
#define MLSPEED_FUZZ_STR(x) MLSPEED_FUZZ_STR2(x)
#define MLSPEED_FUZZ_STR2(x) #x

// Runs `body`; InputFileError, the error every reader documents for a missing or malformed
// file, is the expected outcome of most inputs and is swallowed. Anything else escapes to
// libFuzzer, which reports it as a crash.
template <typename Body>
void expecting_input_file_errors(Body&& body) {
  try {
    body();
  } catch (const InputFileError&) {
  }
}

}  // namespace mlspeed::fuzz
