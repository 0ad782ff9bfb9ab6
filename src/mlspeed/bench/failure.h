// What a configuration's exception means for its result row.
#pragma once

#include <exception>
#include <string>

#include "mlspeed/results/result.h"

namespace mlspeed {

struct Failure {
  Status status = Status::error;
  std::string message;  // one line, without LibTorch's C++ backtrace
};

// Out of memory -> oom; a dtype or op the device does not implement -> unsupported; anything
// else -> error. LibTorch 2.x throws typed errors for the first two; 1.13 throws a plain
// c10::Error for both, so its message text is the only evidence there.
Failure classify_failure(const std::exception_ptr& error);

}  // namespace mlspeed
