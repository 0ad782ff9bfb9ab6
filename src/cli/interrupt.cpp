#include "cli/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace mlspeed::cli {
namespace {

std::atomic<bool> g_requested{false};
char g_message[160];
size_t g_message_size = 0;

void on_interrupt(int) {
  g_requested = true;
  (void)!write(STDERR_FILENO, g_message, g_message_size);
  signal(SIGINT, SIG_DFL);
}

}  // namespace

InterruptScope::InterruptScope(const char* what) {
  const char head[] = "\nmlspeed: stopping after ";
  const char tail[] = " (Ctrl-C again to quit now)\n";
  g_message[0] = '\0';
  strncat(g_message, head, sizeof g_message - 1);
  strncat(g_message, what, sizeof g_message - strlen(g_message) - sizeof tail);
  strncat(g_message, tail, sizeof g_message - strlen(g_message) - 1);
  g_message_size = strlen(g_message);
  g_requested = false;
  signal(SIGINT, on_interrupt);
}

InterruptScope::~InterruptScope() { signal(SIGINT, SIG_DFL); }

bool InterruptScope::requested() { return g_requested; }
const std::atomic<bool>& InterruptScope::flag() { return g_requested; }

}  // namespace mlspeed::cli
