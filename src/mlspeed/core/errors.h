#pragma once

#include <stdexcept>

namespace mlspeed {

// Bad input from the user (unknown name, malformed list, unusable database path...). The CLI
// prints the message on stderr and exits with status 2; nothing has been run or stored yet.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mlspeed
