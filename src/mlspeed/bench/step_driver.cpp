#include "mlspeed/bench/step_driver.h"

#include <exception>

#include "mlspeed/device/device.h"
#include "mlspeed/device/graph.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {
namespace {

// The first line of an exception's message: LibTorch appends a C++ stack trace to its errors.
std::string first_line_of(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace

StepDriver::StepDriver(Session& session, const c10::Device& device, bool graphs_asked)
    : session_(session), device_(device) {
  if (!graphs_asked || graphs_unavailable(device)) return;  // off: nothing asked, or nothing to ask
  const GraphSupport support = session.graph_support();
  if (support.scope == GraphScope::none) {
    use_ = GraphUse::eager;
    note_ = support.reason;
    return;
  }
  recorder_ = make_graph_recorder(device);
}

StepDriver::~StepDriver() {
  graph_.reset();
  if (use_ == GraphUse::tokens) session_.drop_graphs();
}

void StepDriver::warm_up() {
  if (recorder_) {
    recorder_->warm_up([this] { session_.step(); });
  } else {
    session_.step();
    synchronize(device_);
  }
  warmed_up_ = true;
}

void StepDriver::record() {
  if (!recorder_) return;
  if (!warmed_up_) warm_up();  // --warmup 0 still needs one step before recording
  const GraphScope scope = session_.graph_support().scope;
  try {
    if (scope == GraphScope::step) {
      graph_ = recorder_->record([this] { session_.step(); });
      use_ = GraphUse::step;
    } else {
      use_ = GraphUse::tokens;  // from here on the session owns graphs to drop
      session_.record_graphs(*recorder_);
    }
  } catch (const std::exception& e) {
    drop();
    note_ = "recording the step as a CUDA graph failed: " + first_line_of(e);
  }
  const bool recorded = use_ != GraphUse::eager;
  if (!session_.every_rank_recorded(recorded) && recorded) {
    drop();
    note_ = "another data-parallel rank could not record its step as a CUDA graph: every rank steps eagerly";
  }
  recorder_.reset();
}

void StepDriver::drop() {
  graph_.reset();
  if (use_ == GraphUse::tokens) session_.drop_graphs();
  use_ = GraphUse::eager;
}

void StepDriver::step() {
  if (graph_)
    graph_->replay();
  else
    session_.step();
}

}  // namespace mlspeed
