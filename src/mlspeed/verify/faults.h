// Faults for the verifier's self-test: real faults in the device's computation path, one or more
// per bug class of BUGS.md. A fault is a kernel registered with LibTorch's dispatcher (under the
// dispatch key c10 reserves for testing, TESTING_ONLY_GenericMode) that computes the op the
// normal way and then breaks its result the way the documented bug did — only inside a
// DeviceScope whose Target carries the fault, so the CPU reference outside it stays right.
// `mlspeed verify --inject-fault NAME` runs the verifier against a device with the fault, to show
// that it is caught; the tests assert that every fault is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

struct Fault {
  std::string name;         // "square-mm-transposed"
  BugClass bug_class;       // the class of BUGS.md it reproduces
  std::string bugs_id;      // "O1"
  std::string description;  // what it does, in words
  // What must catch it: the check (op or workload) and pass of the failing rows.
  std::string caught_by_check;
  std::string caught_by_pass;
};

const std::vector<Fault>& faults();
const Fault* find_fault(std::string_view name);

namespace detail {
// Registers the fault kernels with the dispatcher (once) and makes `fault` the active one for the
// scope's lifetime; used by DeviceScope.
void activate(const Fault* fault);
void deactivate();
}  // namespace detail

}  // namespace mlspeed::verify
