#include "mlspeed/parallel/allreduce_probe.h"

#include <c10/util/Exception.h>

#include <chrono>
#include <vector>

namespace mlspeed::parallel {

double bus_bandwidth(double algbw, int world_size) {
  TORCH_CHECK(world_size > 0, "[parallel] a world size must be positive, got ", world_size);
  return algbw * 2.0 * (world_size - 1) / world_size;
}

AllreduceBandwidth probe_allreduce(c10d::ProcessGroup& group, int64_t bytes, const at::TensorOptions& options,
                                   int iterations, int warmup) {
  TORCH_CHECK(bytes >= 4 && iterations > 0 && warmup >= 0, "[parallel] an all-reduce probe needs at least 4 bytes "
              "and one iteration, got ", bytes, " bytes and ", iterations, " iterations");
  std::vector<at::Tensor> buffer{at::ones({bytes / 4}, options.dtype(at::kFloat))};
  const auto all_reduce = [&] { group.allreduce(buffer)->wait(); };
  for (int i = 0; i < warmup; ++i) all_reduce();
  buffer[0][0].item<float>();  // the device is idle before the clock starts
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) all_reduce();
  buffer[0][0].item<float>();
  const double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The slowest rank's time: the collective is as fast as its slowest member.
  std::vector<at::Tensor> slowest{at::full({1}, local, options.dtype(at::kDouble))};
  c10d::AllreduceOptions max;
  max.reduceOp = c10d::ReduceOp::MAX;
  group.allreduce(slowest, max)->wait();
  AllreduceBandwidth out;
  out.bytes = bytes / 4 * 4;
  out.world_size = group.getSize();
  out.iterations = iterations;
  out.seconds = slowest[0].item<double>() / iterations;
  out.algbw_gb_s = static_cast<double>(out.bytes) / out.seconds / 1e9;
  out.busbw_gb_s = bus_bandwidth(out.algbw_gb_s, out.world_size);
  return out;
}

}  // namespace mlspeed::parallel
