// Faults for the verifier's self-test: real faults in the device's computation path, one or more
// per bug class of docs/silent-bugs.md. A fault is a kernel registered with LibTorch's dispatcher
// (under the dispatch key c10 reserves for testing, TESTING_ONLY_GenericMode) that computes the op the
// normal way and then breaks its result the way the documented bug did — only inside a
// DeviceScope whose Target carries the fault, so the CPU reference outside it stays right.
// The faults of the quantised-weight path (quant_faults.h) are not ops of the dispatcher: they
// rewrite the blocks that quant's products read, through quant/fault_hook.h, in the same scope;
// a fault of a Llama decode step's own code (its fused CUDA kernels and its LibTorch path) is set
// on fused/kernel_fault.h, as is a dispatcher fault's twin in mlspeed's own kernel of the op.
// `mlspeed verify --inject-fault NAME` runs the verifier against a device with the fault, to show
// that it is caught; the tests assert that every fault is.
#pragma once

#include <c10/core/impl/LocalDispatchKeySet.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

struct Fault {
  std::string name;         // "square-mm-transposed"
  BugClass bug_class;       // the class of docs/silent-bugs.md it reproduces
  std::string bugs_id;      // "O1"
  std::string description;  // what it does, in words
  // What must catch it: the check (op or workload) and pass of the failing rows.
  std::string caught_by_check;
  std::string caught_by_pass;
  // Not a bug: a healthy device's behaviour (rounding in another order) that verify must pass,
  // to show that it raises no false alarm.
  bool healthy = false;
};

const std::vector<Fault>& faults();
const Fault* find_fault(std::string_view name);

// While alive, `fault` breaks the ops it targets in this thread and in the autograd work started
// from it (LibTorch carries the thread's dispatch keys into backward). Its kernels are registered
// with the dispatcher on first use; a fault of the quantised path is set on quant/fault_hook.h,
// one of mlspeed's own kernels on fused/kernel_fault.h, for this thread instead. A null fault
// injects nothing and costs nothing. Used by DeviceScope.
class Injection {
 public:
  explicit Injection(const Fault* fault);
  ~Injection();
  Injection(const Injection&) = delete;
  Injection& operator=(const Injection&) = delete;

 private:
  std::optional<c10::impl::IncludeDispatchKeyGuard> include_;
  bool blocks_ = false;  // a quant_faults.h fault, set on quant/fault_hook.h
  bool kernel_ = false;  // a fault of mlspeed's own kernels, set on fused/kernel_fault.h
};

}  // namespace mlspeed::verify
