// Gloo process groups for the data-parallel tests (parallel/*_cpu_test.cpp): rank `rank` of
// `ranks`, meeting through `store` (a HashStore for ranks that are threads of one process, a
// FileStore for processes). Gloo's timeout is 60 s, so that a rank that never comes fails a test
// instead of hanging it. Made by parallel/process_groups.h as the product makes them; only where
// CMake found Gloo (MLSPEED_HAS_GLOO).
#pragma once

#if MLSPEED_HAS_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "mlspeed/parallel/process_groups.h"

namespace mlspeed::testing {

inline c10::intrusive_ptr<c10d::ProcessGroup> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                         int ranks) {
  return parallel::make_group(store, rank, ranks, c10::kCPU, std::chrono::seconds(60));
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
