// What every model-level check shares (model_checks.cpp, step_checks.cpp): the context of one
// check (a workload at a size and precision, on the device under test), the row it fills, and
// the sessions it opens — the same workload code `mlspeed run` times, with dropout off.
#pragma once

#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "mlspeed/core/precision.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/target.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::verify::models {

inline const c10::Device kCpu(c10::kCPU);

// The wall time of one check, for its row.
class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct Context {
  const Target& target;
  const Workload& workload;
  const std::string& size;
  Precision precision;
  Shape shape;
  OpenOptions open;
};

// A row for `pass` of the check in `c`, with the precision flags in force.
CheckResult base_row(const Context& c, const std::string& pass, BugClass bug_class);
void set_failure(CheckResult& row, Outcome outcome, const std::string& message);

// Runs `body` for `row`, turning exceptions into the row's outcome.
template <typename Body>
void guarded(CheckResult& row, Body&& body) {
  try {
    body();
  } catch (...) {
    record_failure(row, std::current_exception());
  }
}

// The workload's session on `device`, prepared for the check's shape, dropout off (the device's
// random stream is not the CPU's).
std::unique_ptr<Session> open_prepared(const Context& c, const c10::Device& device, Precision precision);
// Fallback warnings seen inside a scope make the row "not tested"; returns whether they did.
bool fell_back(CheckResult& row, const DeviceScope& scope);
// Every parameter, in float32 on the CPU, by name.
std::map<std::string, at::Tensor> snapshot(torch::nn::Module& model);

}  // namespace mlspeed::verify::models
