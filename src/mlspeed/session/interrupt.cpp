#include "mlspeed/session/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace mlspeed {
namespace {

std::atomic<bool> g_requested{false};
const char* g_what = "";  // a string literal: lives as long as the process
size_t g_what_size = 0;

void say(const char* text, size_t size) { (void)!write(STDERR_FILENO, text, size); }

// Only async-signal-safe calls here.
void on_interrupt(int) {
  g_requested = true;
  static const char head[] = "\nmlspeed: stopping after ";
  static const char tail[] = " (Ctrl-C again to quit now)\n";
  say(head, sizeof head - 1);
  say(g_what, g_what_size);
  say(tail, sizeof tail - 1);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

}  // namespace

InterruptScope::InterruptScope(const char* what) {
  g_what = what;
  g_what_size = strlen(what);
  g_requested = false;
  signal(SIGINT, on_interrupt);
  signal(SIGTERM, on_interrupt);  // `kill`, a job scheduler's time limit: stop as cleanly as Ctrl-C
}

InterruptScope::~InterruptScope() {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

void InterruptScope::request() { g_requested = true; }
bool InterruptScope::requested() { return g_requested; }
const std::atomic<bool>& InterruptScope::flag() { return g_requested; }

}  // namespace mlspeed
