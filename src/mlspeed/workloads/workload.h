// A workload is a model plus the job timed on it (a training step, an inference forward, a
// generation). The catalogue lists them; the runner opens a Session per (workload, size,
// device, precision) and times Session::step() for each shape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/core/numerics.h"
#include "mlspeed/device/graph.h"
#include "mlspeed/core/job.h"

namespace at {
class Tensor;
}
namespace c10 {
struct Device;
}
namespace torch::nn {
class Module;
}

namespace mlspeed {

class Generator;

// What one timed step works on. `seq` is the sequence (or prompt) length, `new_tokens` the
// tokens a generation step produces one at a time with a KV cache (0 for every other job),
// `depth` the positions already in that cache when the step starts (llama-bench's -d: filled
// before timing, so the step attends over a long context without processing it).
// llama-bench's tests are shapes: pp512 is {batch 1, seq 512, new_tokens 0}, tg128 is
// {batch 1, seq 0, new_tokens 128}, "tg128 @ d4096" is {1, 0, 128, 4096}.
struct Shape {
  int64_t batch = 1;
  int64_t seq = 0;         // 0 when the workload has no sequence length
  int64_t new_tokens = 0;  // 0 unless the step generates
  int64_t depth = 0;       // 0 unless the workload takes a depth (Workload::takes_depth)
};

struct WorkloadSize {
  std::string name;      // "tiny", "full", ...
  std::string summary;   // "6 layers, 6 heads, 384 wide, vocab 65, block 256"
  int64_t parameters = 0;          // counted as the public reference counts them (see each workload)
  std::vector<int64_t> batches;    // default sweep
  std::vector<int64_t> seqs;       // default sweep; empty when the workload has no sequence length
  std::vector<int64_t> new_tokens; // default sweep of generated tokens; empty unless it generates
  int64_t max_seq = 0;             // the longest depth + seq + new_tokens the model takes (0: no limit)
};

// The user's sweep lists for the shape dimensions; an empty list means the size's defaults.
struct ShapeRequest {
  std::vector<int64_t> batches;
  std::vector<int64_t> seqs;
  std::vector<int64_t> new_tokens;
  std::vector<int64_t> depths;  // taken by the workloads whose takes_depth() is true; empty: 0
};

// llama-bench's model columns for a language model whose layout llama.cpp names: its model
// ("llama 7B Q4_0": architecture, llama.cpp's model type, file type) and the bytes of its
// weights as stored (llama-bench's size).
struct StoredModel {
  std::string label;
  int64_t bytes = 0;
};

// How a session is opened: the seed of random weights and synthetic data, and optionally real
// weights (a .safetensors file) and a real data set (a path in the format the workload reads).
struct OpenOptions {
  uint64_t seed = 0;
  std::string weights;  // empty: random weights from `seed`
  std::string data;     // empty: synthetic data from `seed`
};

// A lower bound on the device memory a configuration needs, computed without allocating:
// `model` is what stays resident while the model is open (weights, gradients, optimizer state),
// `per_step` what one step of the shape adds on top (activations kept for backward, KV cache,
// inputs). The runner refuses a configuration whose bound exceeds the device's free memory
// (status too-large) before building anything.
struct MemoryEstimate {
  int64_t model = 0;
  int64_t per_step = 0;
  int64_t total() const { return model + per_step; }
};

// A model built on a device with its optimizer state, ready to be timed.
class Session {
 public:
  virtual ~Session() = default;
  // Makes the inputs for `shape` (synthetic from the seed, or the first batch of the data set);
  // called before each configuration.
  virtual void prepare(const Shape& shape) = 0;
  // One timed iteration: a whole training step, one inference forward, or one generation. It
  // does not synchronise at its end; the timer does. With a real data set, it loads the next
  // batch and copies it to the device itself.
  virtual void step() = 0;
  // Whether step() can be replayed from a CUDA graph, asked after prepare(). A `step` session
  // must keep step() static for a prepared shape: the same input tensors, no host
  // synchronisation, no host-side decision on a device value.
  virtual GraphSupport graph_support() const { return {}; }
  // For GraphScope::tokens: records the session's own graphs on `recorder` after the warm-up;
  // step() replays them until prepare() or drop_graphs().
  virtual void record_graphs(GraphRecorder& recorder) { (void)recorder; }
  virtual void drop_graphs() {}
  // Asked once after recording, with whether this session's graphs were recorded: whether every
  // process training with it did so. A data-parallel rank asks its group, for a captured
  // all-reduce must be replayed by every rank or by none; one process answers for itself.
  virtual bool every_rank_recorded(bool recorded) { return recorded; }
  // What the steps read: "synthetic", or the data set and how much of it was loaded.
  virtual std::string data_description() const { return "synthetic"; }
  // For a generation step: the time from the step's start to its first new token, measured in
  // the last step() (ms; read after the runner has waited for the step); empty for every other
  // job.
  virtual std::optional<double> last_first_token_ms() const { return std::nullopt; }
  // Greedy generation for `mlspeed generate` and verification; null unless the model generates.
  virtual Generator* generator() { return nullptr; }
  // The model, for loading and saving weights and for verification.
  virtual torch::nn::Module& model() = 0;
  // For verification (mlspeed verify): the forward pass on the prepared inputs, recording
  // autograd (no optimizer step, no InferenceMode), in the session's precision — the tensor the
  // step computes: the logits of a training step (before the loss), the output of an inference
  // forward, the logits of every position of a generation's prompt. Gradients of it reach every
  // parameter that has requires_grad (inference sessions: the caller turns it on).
  virtual at::Tensor forward() = 0;
  // What the last step() produced, detached, on the device: the loss of a training step, the
  // output of an inference forward (logits, hidden states, the predicted noise), the new tokens
  // of a generation. Undefined before the first step.
  virtual at::Tensor last_output() const = 0;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual Job job() const = 0;
  virtual std::string item_unit() const = 0;  // what throughput counts: "tokens", "samples", "images"
  virtual const std::vector<WorkloadSize>& sizes() const = 0;
  virtual double items_per_step(const Shape& shape) const = 0;
  // Model FLOPs per item, counted analytically (documented beside each model).
  virtual double flops_per_item(const std::string& size, const Shape& shape) const = 0;
  // For steps bound by memory bandwidth (decoding one token at a time): the fewest bytes one item
  // must read from device memory, counted analytically (every weight it multiplies by once, the
  // KV cache it attends over). 0 where the step is compute-bound and no roofline applies.
  virtual double bytes_per_item(const std::string& size, const Shape& shape, const Numerics& numerics) const {
    (void)size, (void)shape, (void)numerics;
    return 0.0;
  }
  // Builds the model (random weights from options.seed, identical on every device, or the
  // weights file), then moves it to `device`. Throws InputFileError for a bad weights or data
  // file, c10::Error or std::exception for anything else.
  // `numerics.weights` is one of weight_formats() or none.
  virtual std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                        const OpenOptions& options) const = 0;
  // The weight formats (--weight-format) this workload can store its model in besides its own
  // (Numerics::weights none); empty when it runs only in its own.
  virtual std::vector<ModelFormat> weight_formats() const { return {}; }
  // The one weight format of a model read from a file in its own (a GGUF file's type); every
  // configuration of this workload has it. Empty for the catalogue's workloads.
  virtual std::optional<ModelFormat> fixed_weight_format() const { return std::nullopt; }
  // Whether the step can start from a KV cache filled to Shape::depth (--depth).
  virtual bool takes_depth() const { return false; }
  // llama-bench's model columns in this storage; empty for a model llama.cpp has no name for.
  virtual std::optional<StoredModel> stored_model(const std::string& size, const Numerics& numerics) const {
    (void)size, (void)numerics;
    return std::nullopt;
  }

  // The shapes to time, in order. The default is every seq x new_tokens x batch, from the
  // request's lists or the size's defaults; llama2-7b-generate overrides it (llama-bench's pp and
  // tg tests are separate shapes).
  virtual std::vector<Shape> shapes(const WorkloadSize& size, const ShapeRequest& request) const;
  // A lower bound on the memory of a configuration (see MemoryEstimate); empty when unknown,
  // which skips the check.
  virtual std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                        const Numerics& numerics) const {
    (void)size, (void)shape, (void)numerics;
    return std::nullopt;
  }
  // The data set `--data` takes, in words ("CIFAR-100 binary: the cifar-100-binary folder or its
  // train.bin"); empty when the workload reads no data set.
  virtual std::string data_format() const { return {}; }
  // How many steps make the job a user waits for (Stable Diffusion: 50 denoising steps); each
  // row then also reports the time of the whole job. 1 for every workload whose step is the job.
  virtual int64_t steps_per_job() const { return 1; }
};

// The catalogue, in the order `mlspeed workloads` lists it.
const std::vector<const Workload*>& workload_catalogue();
const Workload* find_workload(std::string_view name);
const WorkloadSize* find_size(const Workload& workload, std::string_view size);
// A sweep dimension: the request's list, or the size's defaults when the request gives none.
const std::vector<int64_t>& requested_or(const std::vector<int64_t>& requested, const std::vector<int64_t>& defaults);
std::vector<std::string> workload_names();

}  // namespace mlspeed
