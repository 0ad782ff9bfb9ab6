#include <signal.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <string>

#include "cli/app.h"
#include "cli/crash_report.h"
#include "mlspeed/core/standard_output.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/cpu_setup.h"

namespace {

// A failed write to standard output is an error, as in GNU tools: half a JSON file with exit
// status 0 would pass for a whole one. Said here unless the command said it already (a run says
// it in its closing line).
int check_standard_output(int status) {
  const std::string failure = mlspeed::stdout_failure();
  if (failure.empty()) return status;
  if (!mlspeed::stdout_failure_told()) std::cerr << "mlspeed: cannot write to standard output: " << failure << "\n";
  return status == 0 ? 1 : status;
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that went away (`mlspeed run -o jsonl | head -1`) makes writes fail with EPIPE,
  // which the run turns into an orderly end, instead of killing the process mid-run.
  signal(SIGPIPE, SIG_IGN);
  mlspeed::cli::install_crash_report();
  mlspeed::keep_freed_cpu_memory();  // before any tensor is allocated
  const mlspeed::CheckedOutput checked(std::cout, STDOUT_FILENO);
  int status = 1;
  try {
    status = mlspeed::cli::run_app(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mlspeed: " << mlspeed::one_line(e.what()) << "\n";  // a value quoted in it may hold a line break
  }
  return check_standard_output(status);
}
