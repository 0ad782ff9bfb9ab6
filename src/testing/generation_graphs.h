// The check shared by generation_graphs_cpu_test.cpp (a stand-in recorder on the CPU: a "graph"
// runs the recorded work again) and generation_graphs_gpu_test.cpp (CUDA graphs on cuda:0): a
// generation session whose graphs were recorded must produce exactly what its eager step
// produces, step after step.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "mlspeed/core/numerics.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/graph.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::testing {

struct GraphCase {
  const char* workload;
  const char* size;
  Shape shape;
  Numerics numerics;  // a Precision, or one with stored weights (q4_0, ...)
};

inline std::string describe(const GraphCase& c) {
  const std::string weights = c.numerics.weights ? " " + std::string(name(*c.numerics.weights)) : "";
  return std::string(c.workload) + " " + c.size + " " + std::string(name(c.numerics.precision)) + weights +
         ", batch " + std::to_string(c.shape.batch) + " seq " + std::to_string(c.shape.seq) + " new_tokens " +
         std::to_string(c.shape.new_tokens) + " depth " + std::to_string(c.shape.depth);
}

inline std::unique_ptr<Session> open_case(const GraphCase& c, const c10::Device& device) {
  const Workload* w = find_workload(c.workload);
  if (w == nullptr) throw std::runtime_error(std::string(c.workload) + " is not in the catalogue");
  auto session = w->open(c.size, device, c.numerics, OpenOptions{3, "", ""});
  session->prepare(c.shape);
  return session;
}

inline void expect_same_output(const at::Tensor& got, const at::Tensor& expected, const std::string& what) {
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  if (got.equal(expected)) return;
  const at::Tensor differs = got.ne(expected);
  ADD_FAILURE() << what << ": " << differs.sum().item<int64_t>() << " of " << got.numel()
                << " elements differ; max difference "
                << (got.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>() << "\ngot\n"
                << got.cpu() << "\nexpected\n"
                << expected.cpu();
}

// The eager step, then graphs recorded as the runner records them (a warm-up step on the
// recorder first) and replayed for two consecutive steps (the device position starts again at
// every step), then eager again once the graphs are dropped: last_output() is the same each
// time. Then prepare() for another shape drops the graphs: the next step is that shape's.
inline void expect_replays_equal_eager(const GraphCase& c, const c10::Device& device,
                                       const std::function<std::unique_ptr<GraphRecorder>()>& make_recorder) {
  SCOPED_TRACE(describe(c));
  auto session = open_case(c, device);
  ASSERT_EQ(session->graph_support().scope, GraphScope::tokens);
  session->step();
  synchronize(device);
  const at::Tensor eager = session->last_output().clone();

  auto recorder = make_recorder();
  recorder->warm_up([&] { session->step(); });
  session->record_graphs(*recorder);
  for (int i = 0; i < 2; ++i) {
    session->step();
    synchronize(device);
    expect_same_output(session->last_output(), eager, "replayed step " + std::to_string(i + 1));
    if (c.shape.new_tokens > 0 && std::string(c.workload) == "gpt2-generate") {
      const auto first = session->last_first_token_ms();
      ASSERT_TRUE(first.has_value()) << "replayed steps time the first token";
      EXPECT_GE(*first, 0.0);
    }
  }
  session->drop_graphs();
  session->step();
  synchronize(device);
  expect_same_output(session->last_output(), eager, "eager step after drop_graphs()");

  // prepare() drops the graphs (they point into the previous shape's buffers).
  session->record_graphs(*recorder);
  GraphCase longer = c;
  longer.shape.batch += 1;
  (longer.shape.new_tokens > 0 ? longer.shape.new_tokens : longer.shape.seq) += 2;
  session->prepare(longer.shape);
  session->step();
  synchronize(device);
  auto fresh = open_case(longer, device);
  fresh->step();
  synchronize(device);
  expect_same_output(session->last_output(), fresh->last_output(), "first step after prepare()");
}

}  // namespace mlspeed::testing
