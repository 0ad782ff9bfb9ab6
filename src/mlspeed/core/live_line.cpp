#include "mlspeed/core/live_line.h"

#include <unistd.h>

#include <cstdio>

namespace mlspeed {

LiveLine& LiveLine::on_stderr() {
  static LiveLine line(isatty(STDERR_FILENO) != 0);
  return line;
}

void LiveLine::show(const std::string& text, bool force) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void LiveLine::settle(const std::string& text) {
  if (!terminal_) return;
  std::fprintf(stderr, "\r\033[K%s\n", text.c_str());
  std::fflush(stderr);
  shown_ = false;
}

void LiveLine::clear() {
  if (!terminal_ || !shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace mlspeed
