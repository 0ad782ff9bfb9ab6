// CUDA graphs: a region of device work recorded once and replayed with a single launch, so that
// a timed step measures the device rather than the host that launches its kernels one by one.
//
// Recording does not run the work: the kernels are captured, with the memory they allocate taken
// from a pool private to the graph (the caching allocator keeps it for the graph's lifetime, so
// tensors created while recording stay valid and are rewritten by every replay). The recorded work
// must therefore be static: the same shapes and the same tensors every time, no host
// synchronisation (no .item(), no copy to the host, no host-side check of a device value), and
// lazy state (cuBLAS handles and workspaces, cuDNN plans, optimizer moments) created beforehand
// by warm-up iterations on the recording stream (GraphRecorder::warm_up).
//
// Implemented in cuda_graph.cpp when LibTorch has CUDA, in cuda_none.cpp otherwise.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace c10 {
struct Device;
}

namespace mlspeed {

// How a session's step runs when CUDA graphs are asked for (`mlspeed run --graphs on`), as the
// session says (Session::graph_support).
enum class GraphScope {
  step,    // the step is static: the runner records it whole, once, and times its replays
  tokens,  // the session records its own graphs (generation: the prompt pass and one decode step)
  none,    // the step cannot be recorded and runs eagerly; GraphSupport::reason says why
};

struct GraphSupport {
  GraphScope scope = GraphScope::step;
  std::string reason;  // for `none`: why, in words a user can act on
};

class Graph {
 public:
  virtual ~Graph() = default;
  // Enqueues the recorded work on the current stream; returns without waiting for it.
  virtual void replay() = 0;
};

// Records graphs on one device, on a stream of its own (CUDA records only off the default stream).
class GraphRecorder {
 public:
  virtual ~GraphRecorder() = default;
  // Runs `work` eagerly on the recording stream and waits for it: lazy per-stream state (cuBLAS's
  // workspace) is created here rather than while recording.
  virtual void warm_up(const std::function<void()>& work) = 0;
  // Records `work` into a graph. Throws (c10::Error or std::runtime_error, with CUDA's reason) when
  // the work cannot be recorded, e.g. an op synchronises with the host; the device is left usable
  // and eager work can go on.
  virtual std::unique_ptr<Graph> record(const std::function<void()>& work) = 0;
};

// Why `device` cannot record graphs in this build (not CUDA, or a LibTorch without CUDA), or
// nullopt when it can.
std::optional<std::string> graphs_unavailable(const c10::Device& device);

// Precondition: !graphs_unavailable(device).
std::unique_ptr<GraphRecorder> make_graph_recorder(const c10::Device& device);

}  // namespace mlspeed
