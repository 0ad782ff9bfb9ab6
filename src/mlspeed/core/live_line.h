// The one live line on a terminal's stderr: progress redrawn in place. Anything printed while it
// shows (a row in a machine format on the same terminal, a message) first clears it. Nothing is
// drawn when stderr is not a terminal, so logs and pipes get no escape codes.
#pragma once

#include <chrono>
#include <string>

namespace mlspeed {

class LiveLine {
 public:
  // There is one stderr, so one line per process.
  static LiveLine& on_stderr();

  bool active() const { return terminal_; }
  // Redraws the line with `text`; at most ten times a second unless `force`.
  void show(const std::string& text, bool force = true);
  // Prints `text` where the line was and keeps it (a newline follows); the next show() starts below.
  void settle(const std::string& text);
  void clear();

 private:
  explicit LiveLine(bool terminal) : terminal_(terminal) {}
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace mlspeed
