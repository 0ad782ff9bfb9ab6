// How the iterations of one configuration run: eager steps, or the replay of CUDA graphs recorded
// after the warm-up (mlspeed run --graphs on). Shared by the runner, which times the iterations,
// and by verification, which checks that a replayed step computes what the eager step computes.
//
//   StepDriver driver(session, device, graphs_asked);
//   for (warm-up) driver.warm_up();     // eager, on the stream graphs will be recorded on
//   driver.record();                    // the graph; a step that cannot be recorded stays eager
//   driver.step();                      // one iteration: a replay, or an eager step
//
// The session must be prepared for its shape first. Graphs are recorded only on a device that
// has them (CUDA) and only when the session says its step allows it (Session::graph_support);
// otherwise, or when recording fails, every iteration is an eager step and use()/note() say so.
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "mlspeed/results/result.h"

namespace mlspeed {

class Graph;
class GraphRecorder;
class Session;

class StepDriver {
 public:
  StepDriver(Session& session, const c10::Device& device, bool graphs_asked);
  ~StepDriver();  // drops the graphs: their memory goes back to the allocator
  StepDriver(const StepDriver&) = delete;
  StepDriver& operator=(const StepDriver&) = delete;

  // One untimed eager step, then waits for the device.
  void warm_up();
  // Records the graphs, if they are to be used. Recording runs nothing: the session's state is
  // as the warm-up left it, and the first step() is the first replay. A failed recording leaves
  // eager steps, with the reason in note(); so does a data-parallel rank whose peer failed to
  // record (Session::every_rank_recorded). Records after at least one warm_up() (it runs one
  // itself otherwise): lazy state must not be recorded.
  void record();
  // One iteration; returns without waiting for the device.
  void step();

  bool will_record() const { return recorder_ != nullptr; }
  GraphUse use() const { return use_; }
  const std::string& note() const { return note_; }

 private:
  void drop();  // back to eager steps: the graphs go

  Session& session_;
  c10::Device device_;
  GraphUse use_ = GraphUse::off;
  std::string note_;
  bool warmed_up_ = false;
  std::unique_ptr<GraphRecorder> recorder_;
  std::unique_ptr<Graph> graph_;  // the whole step (GraphScope::step)
};

}  // namespace mlspeed
