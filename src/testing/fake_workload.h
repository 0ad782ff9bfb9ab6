// A workload whose sessions do no model work, for testing the runner and the plan: each step
// sleeps a little, and a step can be told to throw what a real device would throw.
#pragma once

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "mlspeed/workloads/workload.h"

namespace mlspeed::testing {

class FakeWorkload : public Workload {
 public:
  explicit FakeWorkload(std::string name = "fake", bool has_seq = true) : name_(std::move(name)) {
    sizes_ = {{"tiny", "fake tiny", 10, {1, 2}, has_seq ? std::vector<int64_t>{8} : std::vector<int64_t>{}, {}, 16},
              {"full", "fake full", 1000, {4}, has_seq ? std::vector<int64_t>{16, 32} : std::vector<int64_t>{}, {}, 64}};
  }
  std::string name() const override { return name_; }
  std::string description() const override { return "a fake workload for tests"; }
  Job job() const override { return fake_job; }
  std::string item_unit() const override { return "samples"; }
  const std::vector<WorkloadSize>& sizes() const override { return sizes_; }
  double items_per_step(const Shape& s) const override { return static_cast<double>(s.batch); }
  double flops_per_item(const std::string&, const Shape&) const override { return 1e9; }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device&, const Numerics& numerics,
                                const OpenOptions& options) const override {
    ++opens;
    last_open = options;
    last_numerics = numerics;
    if (open_throws) open_throws();
    return std::make_unique<FakeSession>(*this, size);
  }
  std::vector<ModelFormat> weight_formats() const override { return formats; }
  std::optional<MemoryEstimate> memory_estimate(const std::string&, const Shape& shape, const Numerics&) const override {
    if (!estimate) return std::nullopt;
    MemoryEstimate e = *estimate;
    e.per_step *= shape.batch;
    return e;
  }
  std::string data_format() const override { return data_format_text; }

  // Called at every step with the batch size; throw from it to simulate a failure.
  std::function<void(int64_t batch)> on_step;
  std::function<void()> open_throws;
  std::optional<MemoryEstimate> estimate;  // per_step is per sample of the batch
  std::string data_format_text;
  mutable OpenOptions last_open;
  mutable Numerics last_numerics;
  std::vector<ModelFormat> formats;  // what weight_formats() gives: none by default
  double step_ms = 1.0;
  Job fake_job = Job::train;
  mutable int opens = 0;
  mutable int steps = 0;

 private:
  class FakeSession : public Session {
   public:
    FakeSession(const FakeWorkload& w, std::string) : w_(w) {}
    void prepare(const Shape& shape) override { batch_ = shape.batch; }
    void step() override {
      ++w_.steps;
      if (w_.on_step) w_.on_step(batch_);
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(w_.step_ms));
    }
    torch::nn::Module& model() override { return module_; }
    at::Tensor last_output() const override { return {}; }
    at::Tensor forward() override { return {}; }

   private:
    const FakeWorkload& w_;
    int64_t batch_ = 0;
    torch::nn::Module module_;
  };

  std::string name_;
  std::vector<WorkloadSize> sizes_;
};

}  // namespace mlspeed::testing
