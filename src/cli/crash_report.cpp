#include "cli/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

namespace mlspeed::cli {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr int kMaxFrames = 64;

void say(const char* text) { (void)!write(STDERR_FILENO, text, strlen(text)); }

void on_fatal_signal(int signo) {
  say("\nmlspeed: crashed: ");
  const char* what = sigdescr_np(signo);  // a constant string: safe here, unlike strsignal
  say(what ? what : "a fatal signal");
  say(". Please report it with the command line and this backtrace:\n");
  void* frames[kMaxFrames];
  backtrace_symbols_fd(frames, backtrace(frames, kMaxFrames), STDERR_FILENO);
  signal(signo, SIG_DFL);  // SA_RESETHAND did so already; said again for a signal raised twice
  raise(signo);
}

}  // namespace

void install_crash_report() {
  // backtrace() loads libgcc's unwinder on its first call, which allocates: done here, not in the
  // handler.
  void* warm[1];
  backtrace(warm, 1);
  static char alternate_stack[64 * 1024];
  stack_t stack{};
  stack.ss_sp = alternate_stack;
  stack.ss_size = sizeof alternate_stack;
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signo : kFatalSignals) sigaction(signo, &action, nullptr);
}

}  // namespace mlspeed::cli
