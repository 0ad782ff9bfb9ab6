#include "mlspeed/verify/step_checks.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mlspeed/bench/step_driver.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/device.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/verify/model_detectors.h"

namespace mlspeed::verify::models {
namespace {

struct Steps {
  std::vector<double> losses;  // each step's loss, before its update
  std::vector<bool> updated;   // whether the step changed any parameter (with `watch_updates`)
  std::string how;             // how the steps ran, when not plainly eager (CUDA graphs)
};

// The steps as `mlspeed run` times them: on a device with CUDA graphs, the first step eager, then
// the step recorded once and replayed, so that a recording that changes the numbers fails the
// curve. `watch_updates`: compare the parameters before and after each step, to see the steps that
// fp16 loss scaling skipped.
Steps run_steps(Session& session, const c10::Device& device, int64_t steps, bool watch_updates) {
  Steps out;
  StepDriver driver(session, device, /*graphs_asked=*/true);
  for (int64_t i = 0; i < steps; ++i) {
    std::vector<at::Tensor> before;
    if (watch_updates)
      for (const at::Tensor& p : session.model().parameters()) before.push_back(p.detach().clone());
    if (i == 0) {
      driver.warm_up();
    } else {
      if (i == 1) driver.record();
      driver.step();
    }
    out.losses.push_back(session.last_output().to(kCpu, at::kDouble).item<double>());
    if (!watch_updates) continue;
    const std::vector<at::Tensor> after = session.model().parameters();
    bool changed = false;
    for (size_t k = 0; k < after.size() && !changed; ++k) changed = !after[k].detach().equal(before[k]);
    out.updated.push_back(changed);
  }
  if (driver.use() == GraphUse::step)
    out.how = "steps 2 to " + std::to_string(steps) + " replayed from one CUDA graph, as `mlspeed run` times them";
  else if (driver.use() == GraphUse::eager)
    out.how = "eager steps: " + driver.note();
  return out;
}

}  // namespace

void training(const Context& c, int64_t steps, const std::function<void(CheckResult)>& emit) {
  CheckResult row = base_row(c, "training", BugClass::training);
  Stopwatch clock;
  guarded(row, [&] {
    // fp16 trains with loss scaling, which skips the updates whose gradients overflow.
    const bool scaled = scales_loss(c.precision);
    Steps device;
    std::map<std::string, at::Tensor> device_before, device_after;
    {
      DeviceScope scope(c.target);
      std::unique_ptr<Session> session = open_prepared(c, c.target.device, c.precision);
      device_before = snapshot(session->model());
      device = run_steps(*session, c.target.device, steps, scaled);
      device_after = snapshot(session->model());
      if (fell_back(row, scope)) return;
    }
    std::unique_ptr<Session> session = open_prepared(c, kCpu, Precision::fp32);
    const auto cpu_before = snapshot(session->model());
    const std::vector<double> cpu_losses = run_steps(*session, kCpu, steps, false).losses;
    const auto cpu_after = snapshot(session->model());

    const int64_t skipped = std::count(device.updated.begin(), device.updated.end(), false);
    const std::vector<double> expected = skipped > 0 ? after_same_updates(cpu_losses, device.updated) : cpu_losses;
    const at::Tensor reference = at::tensor(expected, at::kDouble);
    const Tolerance tolerance = model_tolerance(c.precision, ModelQuantity::loss_curve, reference);
    record(row, compare(at::tensor(device.losses, at::kDouble), reference, tolerance));
    const std::vector<std::string> frozen = unchanged_parameters(device_before, device_after, cpu_before, cpu_after);
    CurveVerdict curve = judge_training_curve(device.losses, expected, tolerance);
    if (skipped > 0) {
      const std::string count = std::to_string(skipped) + " of " + std::to_string(steps) + " steps";
      if (skipped > steps / 4) {
        curve.passed = false;
        curve.message = "fp16 loss scaling skipped " + count +
                        " on the device (their gradients were not finite at every scale tried); " + curve.message;
      } else {
        curve.message += " (" + count +
                         " skipped by fp16 loss scaling, which starts at a scale of 65536 and halves it on "
                         "overflow; each loss is compared with the CPU's after as many updates)";
      }
    }
    if (!frozen.empty()) {
      const size_t changed_on_cpu = static_cast<size_t>(std::count_if(
          cpu_before.begin(), cpu_before.end(), [&](const auto& p) { return !p.second.equal(cpu_after.at(p.first)); }));
      set_failure(row, Outcome::fail,
                  "a parameter update of zero: " + std::to_string(frozen.size()) + " of the " +
                      std::to_string(changed_on_cpu) + " parameters that change on the CPU stay unchanged after " +
                      std::to_string(steps) + " steps on the device (first: " + frozen.front() + "); " + curve.message);
      return;
    }
    row.outcome = curve.passed ? Outcome::pass : Outcome::fail;
    row.message = curve.message + (device.how.empty() ? "" : "; " + device.how);
  });
  row.seconds = clock.seconds();
  emit(row);
}

namespace {

// The tolerance between a step replayed from a CUDA graph and the same step run eagerly on the
// same device: the same kernels on the same inputs, so equal but for the order in which an
// atomic reduction happened to add; tokens exactly.
Tolerance replay_tolerance(const at::Tensor& output, Precision precision) {
  Tolerance t;
  if (!at::isFloatingType(output.scalar_type())) {
    t.exact = true;
    t.description = "replay and eager step equal";
  } else {
    const bool full = model_dtype(precision) == at::kFloat;
    t.rtol = full ? 1e-5 : 1e-2;
    t.atol = full ? 1e-6 : 1e-3;
    t.description = printf_string("replay against the eager step: rtol %g, atol %g", t.rtol, t.atol);
  }
  return t;
}

}  // namespace

// Inference and generation on a device with CUDA graphs: the step `mlspeed run` times (recorded
// once, replayed) computes what the eager step computes. (Training's graph is checked by its loss
// curve against the CPU.)
void step_replay(const Context& c, const std::function<void(CheckResult)>& emit) {
  CheckResult row = base_row(c, "step", BugClass::model);
  Stopwatch clock;
  guarded(row, [&] {
    DeviceScope scope(c.target);
    std::unique_ptr<Session> session = open_prepared(c, c.target.device, c.precision);
    StepDriver driver(*session, c.target.device, /*graphs_asked=*/true);
    driver.warm_up();
    const at::Tensor eager = session->last_output().to(kCpu).clone();
    driver.record();
    if (driver.use() == GraphUse::eager) {
      set_failure(row, Outcome::skipped, "the step runs eagerly, as the other checks ran it: " + driver.note());
      return;
    }
    driver.step();
    synchronize(c.target.device);
    const at::Tensor replayed = session->last_output().to(kCpu);
    if (fell_back(row, scope)) return;
    const bool tokens = !at::isFloatingType(eager.scalar_type());
    const at::Tensor reference = tokens ? eager : eager.to(at::kDouble);
    record(row, compare(tokens ? replayed : replayed.to(at::kDouble), reference, replay_tolerance(eager, c.precision)));
    row.message = (row.outcome == Outcome::pass ? "the CUDA graph replay computes what the eager step computes: "
                                                : "the CUDA graph replay changes the step's output: ") +
                  row.message;
  });
  row.seconds = clock.seconds();
  emit(row);
}

}  // namespace mlspeed::verify::models
