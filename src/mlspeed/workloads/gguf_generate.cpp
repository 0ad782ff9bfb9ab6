#include "mlspeed/workloads/gguf_generate.h"

#include <algorithm>

#include "mlspeed/core/text.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/workloads/llama2_generate.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace {

std::string gguf_file_stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const std::string suffix = ".gguf";
  if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
    base.resize(base.size() - suffix.size());
  return base;
}

std::string model_summary(const llama::GgufModel& m) {
  return printf_string("%s, %.2f GiB, %.2f B parameters", m.label.c_str(), double(m.tensor_bytes) / double(1ull << 30),
                       double(m.parameters) / 1e9);
}

class GgufGenerate : public WorkloadBase {
 public:
  GgufGenerate(std::string path, llama::GgufModel model)
      : WorkloadBase({gguf_file_stem(path),
                      model_summary(model) + " (" + path + "): prompt processing and text generation as llama-bench "
                                                     "times them (pp512 / tg128)",
                      Job::infer, "tokens"},
                     {{"full", {1}, {512}, {128}}},
                     [&](const std::string&) {
                       return ModelFacts{model_summary(model), model.parameters, model.config.max_position_embeddings};
                     }),
        path_(std::move(path)),
        model_(std::move(model)) {}

  std::optional<ModelFormat> fixed_weight_format() const override { return model_.file_type; }
  bool takes_depth() const override { return true; }
  std::optional<StoredModel> stored_model(const std::string&, const Numerics&) const override {
    return StoredModel{model_.label, static_cast<int64_t>(model_.tensor_bytes)};
  }

  double items_per_step(const Shape& shape) const override {
    return double(shape.batch) * double(shape.seq + shape.new_tokens);
  }

  double flops_per_item(const std::string&, const Shape& shape) const override {
    if ((shape.seq > 0) == (shape.new_tokens > 0)) return 0;
    return llama::inference_flops_per_token(model_.config, shape.seq, shape.new_tokens, shape.depth);
  }

  // llama-bench's tests: pp rows, then tg rows (as llama2-7b-generate).
  std::vector<Shape> shapes(const WorkloadSize& size, const ShapeRequest& request) const override {
    return llama_bench_shapes(size, request);
  }

  double bytes_per_item(const std::string&, const Shape& shape, const Numerics& numerics) const override {
    if (shape.seq > 0 || shape.new_tokens < 1) return 0.0;
    const at::ScalarType dtype = model_dtype(numerics.precision);
    return llama::decode_bytes_per_token(model_.config, shape.new_tokens, shape.batch,
                                         bytes_per_element(numerics.precision), llama::as_loaded(model_, dtype),
                                         shape.depth);
  }

  // The weights as loaded, the KV cache, and the activations roughly (as llama2-7b-generate).
  std::optional<MemoryEstimate> memory_estimate(const std::string&, const Shape& shape,
                                                const Numerics& numerics) const override {
    const llama::LlamaConfig& c = model_.config;
    const int64_t bytes = bytes_per_element(numerics.precision);
    const int64_t length = shape.depth + shape.seq + shape.new_tokens;
    const int64_t in_flight =
        shape.batch * std::max<int64_t>({shape.seq, std::min(shape.depth, llama::kContextFillChunk), 1});
    MemoryEstimate m;
    m.model = static_cast<int64_t>(llama::weight_bytes(c, bytes, llama::as_loaded(model_, model_dtype(numerics.precision))));
    m.per_step = 2 * c.num_hidden_layers * shape.batch * c.num_key_value_heads * c.head_dim() *
                     KVCache::capacity_for(length) * bytes +
                 in_flight * (2 * c.hidden_size + 2 * c.intermediate_size) * bytes + shape.batch * c.vocab_size * bytes;
    return m;
  }

  std::unique_ptr<Session> open(const std::string&, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const gguf::File file(path_);
    const at::ScalarType dtype = model_dtype(numerics.precision);
    TORCH_CHECK_NOT_IMPLEMENTED(!(device.is_cpu() && dtype == at::kHalf) || llama::cpu_runs_float16(), "[",
                                name(), "] fp16 on the CPU: this LibTorch has no float16 CPU matrix products; use "
                                "bf16 or fp32");
    return std::make_unique<llama::GenerateSession>(llama::load_gguf(file, model_, device, dtype), device,
                                                    numerics.precision, options.seed);
  }

 private:
  std::string path_;
  llama::GgufModel model_;
};

}  // namespace

std::unique_ptr<Workload> make_gguf_generate(const std::string& path) {
  const gguf::File file(path);
  return std::make_unique<GgufGenerate>(path, llama::describe_gguf(file));
}

}  // namespace mlspeed
