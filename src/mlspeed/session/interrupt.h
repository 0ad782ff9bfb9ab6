// Ctrl-C (and SIGTERM) for the long commands (run, verify): the first asks the command to stop
// after what it is doing, so that everything completed is printed and kept; the second quits at
// once (the default action; rows already stored stay, each was committed on its own, and the run
// is marked interrupted the next time the database is opened).
#pragma once

#include <atomic>

namespace mlspeed {

class InterruptScope {
 public:
  // Installs the handler; `what`, a string literal, finishes "stopping after ..." ("the current
  // iteration").
  explicit InterruptScope(const char* what);
  ~InterruptScope();  // restores the default action
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Asks the command to stop as Ctrl-C does, without Ctrl-C's message: for a stop decided inside
  // the program (its output can no longer be written).
  static void request();
  // Whether Ctrl-C was pressed (or request() called) since the scope began.
  static bool requested();
  static const std::atomic<bool>& flag();
};

}  // namespace mlspeed
