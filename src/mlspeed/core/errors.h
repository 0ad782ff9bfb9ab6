#pragma once

#include <stdexcept>

namespace mlspeed {

// Bad input from the user (unknown name, malformed list, unusable database path...). The CLI
// prints the message on stderr and exits with status 2; nothing has been run or stored yet.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file the user gave (--weights, --data, a vocabulary) that is missing, malformed or does not
// fit the model. The message names the file and, for a malformed one, the byte offset or line
// where reading stopped, and says what was expected. A sweep stops at the first one (every
// configuration would read the same file) and the CLI exits with status 2.
class InputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mlspeed
