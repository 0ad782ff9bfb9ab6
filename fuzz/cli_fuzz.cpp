// Option parsing: mlspeed::cli::parse_arguments on arbitrary command lines, without running
// anything. The input is cut at NUL bytes into argv[1..] (argv[0] is "mlspeed"). Bad input must
// be a UsageError or one of CLI11's errors (which include --help and --version); a command line
// it accepts names a command and keeps the documented limits.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/run_options.h"
#include "fuzz_support.h"

using namespace mlspeed;

namespace {

bool within(const std::vector<int64_t>& values) {
  return std::all_of(values.begin(), values.end(), [](int64_t v) { return v >= 1 && v <= (int64_t{1} << 24); });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Paths in the input (--weights, --data, --db, --profile) resolve inside this process's own
  // folder; scripts/fuzz.sh passes libFuzzer absolute paths.
  if (::chdir(fuzz::temp_dir().c_str()) != 0) fuzz::broken("cannot enter the temporary folder");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"mlspeed"};
  if (size > 0)
    for (std::string_view part : fuzz::split(data, size, '\0', 64)) args.emplace_back(part);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  try {
    const cli::Invocation i = cli::parse_arguments(static_cast<int>(args.size()), argv.data());
    MLSPEED_FUZZ_CHECK(std::count_if(cli::commands().begin(), cli::commands().end(),
                                     [&](const cli::Command& c) { return c.name == i.command; }) == 1);
    MLSPEED_FUZZ_CHECK(static_cast<bool>(i.parsed.run));
    if (i.command == "run") {
      const cli::RunOptions& run = i.options<cli::RunOptions>();
      MLSPEED_FUZZ_CHECK(!run.workloads.empty() && !run.dtypes.empty() && !run.sizes.empty());
      MLSPEED_FUZZ_CHECK(within(run.batches) && within(run.seqs) && within(run.new_tokens));
      MLSPEED_FUZZ_CHECK(run.repetitions >= 1 && run.warmup >= 0 && run.min_time > 0);
      MLSPEED_FUZZ_CHECK(!run.iterations || *run.iterations >= 1);
      MLSPEED_FUZZ_CHECK(!run.threads || (*run.threads >= 1 && *run.threads <= 1024));
    }
  } catch (const UsageError&) {
  } catch (const CLI::Error&) {
  }
  return 0;
}
