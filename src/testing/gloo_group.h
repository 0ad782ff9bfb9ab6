// Gloo process groups for the data-parallel tests (parallel/*_cpu_test.cpp): rank `rank` of
// `ranks`, meeting through `store` (a HashStore for ranks that are threads of one process, a
// FileStore for processes). Gloo's timeout is 60 s, so that a rank that never comes fails a test
// instead of hanging it. Only where CMake found Gloo (MLSPEED_HAS_GLOO): LibTorch's
// ProcessGroupGloo header needs Gloo's own headers.
#pragma once

#if MLSPEED_HAS_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::testing {

inline c10::intrusive_ptr<c10d::ProcessGroup> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                         int ranks) {
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->timeout = std::chrono::seconds(60);
  options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return compat::process_group<c10d::ProcessGroup>(
      store, rank, ranks, c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, ranks, options), c10::kCPU, "gloo");
}

// Runs `body(group, rank)` for every rank, each in a thread of its own, and waits for them all.
inline void on_thread_ranks(int ranks,
                            const std::function<void(const c10::intrusive_ptr<c10d::ProcessGroup>&, int)>& body) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank)
    threads.emplace_back([&, rank] {
      body(gloo_group(store, rank, ranks), rank);
    });
  for (auto& t : threads) t.join();
}

}  // namespace mlspeed::testing
#endif
