// CUDA graphs through LibTorch's at::cuda::CUDAGraph, built only against a LibTorch with CUDA
// (2.x; see CMakeLists.txt). LibTorch takes care of what a hand-written capture would get wrong:
// the caching allocator serves the capture from a private pool, and random-number kernels
// (dropout) read a seed and offset that every replay advances, so each replay draws new numbers
// as an eager step would.
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/core/Device.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include "mlspeed/device/graph.h"

namespace mlspeed {
namespace {

// The id of a private memory pool (its type's home moved between LibTorch versions).
using PoolId = decltype(at::cuda::graph_pool_handle());

class CudaGraph : public Graph {
 public:
  at::cuda::CUDAGraph graph;
  void replay() override { graph.replay(); }
};

class CudaGraphRecorder : public GraphRecorder {
 public:
  explicit CudaGraphRecorder(c10::DeviceIndex index)
      : index_(index), stream_(at::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}

  void warm_up(const std::function<void()>& work) override {
    c10::cuda::CUDAGuard device(index_);
    follow_current_stream();
    {
      c10::cuda::CUDAStreamGuard on_stream(stream_);
      work();
    }
    stream_.synchronize();
  }

  std::unique_ptr<Graph> record(const std::function<void()>& work) override {
    c10::cuda::CUDAGuard device(index_);
    // As torch.cuda.graph: nothing else in flight while recording.
    AT_CUDA_CHECK(cudaDeviceSynchronize());
    auto graph = std::make_unique<CudaGraph>();
    const PoolId pool = at::cuda::graph_pool_handle();
    c10::cuda::CUDAStreamGuard on_stream(stream_);
    graph->graph.capture_begin(pool);
    try {
      work();
      graph->graph.capture_end();
    } catch (...) {
      abandon(pool);
      throw;
    }
    return graph;
  }

 private:
  // The recording stream starts after the work already queued on the current stream.
  void follow_current_stream() {
    at::cuda::CUDAEvent queued;
    queued.record(at::cuda::getCurrentCUDAStream(index_));
    queued.block(stream_);
  }

  // After a failed recording: end the capture if CUDA still has it open, clear the error CUDA
  // recorded for it, and give the private pool back, so that eager work can go on.
  void abandon(const PoolId& pool) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream_.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
      cudaGraph_t partial = nullptr;
      if (cudaStreamEndCapture(stream_.stream(), &partial) == cudaSuccess && partial != nullptr)
        cudaGraphDestroy(partial);
    }
    (void)cudaGetLastError();
    c10::cuda::CUDACachingAllocator::endAllocateToPool(index_, pool);
    c10::cuda::CUDACachingAllocator::releasePool(index_, pool);
  }

  c10::DeviceIndex index_;
  at::cuda::CUDAStream stream_;
};

}  // namespace

std::optional<std::string> graphs_unavailable(const c10::Device& device) {
  if (!device.is_cuda()) return "CUDA graphs exist only on CUDA devices";
  return std::nullopt;
}

std::unique_ptr<GraphRecorder> make_graph_recorder(const c10::Device& device) {
  return std::make_unique<CudaGraphRecorder>(device.index() < 0 ? c10::DeviceIndex{0} : device.index());
}

}  // namespace mlspeed
