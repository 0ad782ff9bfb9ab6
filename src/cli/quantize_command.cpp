// `mlspeed quantize IN OUT --type TYPE` (llama.cpp's llama-quantize): a GGUF file of a Llama-family
// model written again in another file type, a Hugging Face checkpoint folder written as one
// (convert_hf_to_gguf.py then llama-quantize), or random weights of a catalogue size written as
// one, at the layout llama.cpp's tools give (what `run --model` then times on machines that cannot
// download a model).
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/live_line.h"
#include "mlspeed/core/text.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/models/llama_gguf_write.h"
#include "mlspeed/models/llama_hf.h"
#include "mlspeed/models/llama_hf_vocabulary.h"
#include "mlspeed/workloads/llama2_generate.h"

namespace mlspeed::cli {
namespace {

// The vocabulary a GGUF file carries (tokenizer.ggml.*), for writing it again: SentencePiece's
// ("llama": scores) or a byte-level BPE's ("gpt2": merges and the pre-tokenizer's name, Llama 3).
// The ids default as llama.cpp's loader defaults them for the file's kind of vocabulary.
llama::GgufVocabulary vocabulary_of(const gguf::File& file) {
  llama::GgufVocabulary v;
  v.model = file.find_string("tokenizer.ggml.model").value_or("llama");
  const bool byte_level = v.model == "gpt2";
  v.tokens = file.get_string_array("tokenizer.ggml.tokens");
  v.scores = file.find_float_array("tokenizer.ggml.scores").value_or(std::vector<float>{});
  for (int64_t t : file.find_int_array("tokenizer.ggml.token_type").value_or(std::vector<int64_t>{}))
    v.types.push_back(static_cast<int32_t>(t));
  v.merges = file.find_string_array("tokenizer.ggml.merges").value_or(std::vector<std::string>{});
  v.pre = file.find_string("tokenizer.ggml.pre").value_or("");
  v.bos = static_cast<int32_t>(file.find_uint("tokenizer.ggml.bos_token_id").value_or(byte_level ? 11 : 1));
  v.eos = static_cast<int32_t>(file.find_uint("tokenizer.ggml.eos_token_id").value_or(byte_level ? 11 : 2));
  const std::optional<uint64_t> unknown = file.find_uint("tokenizer.ggml.unknown_token_id");
  v.unknown = unknown ? static_cast<int32_t>(*unknown) : byte_level ? -1 : 0;
  return v;
}

// random:SIZE: the model of a llama2-7b-generate size with random weights made directly in the
// file type's formats (a 7B model is never built densely), and a made-up vocabulary.
llama::LlamaForCausalLM random_model(const std::string& size, ModelFormat type, uint64_t seed,
                                     llama::GgufVocabulary& vocabulary) {
  llama::LlamaConfig config;
  try {
    config = llama::generate_config(size);
  } catch (const std::invalid_argument&) {
    throw UsageError("IN: random:" + size + " is no size of llama2-7b-generate; choose tiny, small, medium or full");
  }
  // The tiny size's 256 tokens cannot hold a Llama vocabulary's 3 special and 256 byte tokens.
  config.vocab_size = std::max<int64_t>(config.vocab_size, 320);
  vocabulary = llama::synthetic_vocabulary(config.vocab_size);
  const at::ScalarType dtype = type == ModelFormat::f16 ? at::kHalf : type == ModelFormat::bf16 ? at::kBFloat16 : at::kFloat;
  llama::LlamaForCausalLM model(config, at::TensorOptions(dtype),
                                is_quantized(type) ? llama::StoredWeights{type, config.num_hidden_layers, {}}
                                                   : llama::StoredWeights{});
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(seed));
  return model;
}

}  // namespace

int quantize_command(const QuantizeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  llama::GgufVocabulary vocabulary;
  llama::GgufWriteOptions write;
  write.format = o.type;
  llama::LlamaForCausalLM model{nullptr};
  if (o.input.rfind("random:", 0) == 0) {
    model = random_model(o.input.substr(7), o.type, o.seed, vocabulary);
    write.name = "mlspeed random " + o.input.substr(7);
  } else if (llama::is_hf_checkpoint_path(o.input)) {
    // Everything that can be refused is read before the weights: config.json, tokenizer.json, the
    // shards' presence, then their headers (load_hf_llama).
    const llama::HfCheckpoint checkpoint = llama::open_hf_checkpoint(o.input);
    vocabulary = llama::read_hf_vocabulary(checkpoint);
    write.name = checkpoint.name;
    LiveLine& line = LiveLine::on_stderr();
    try {
      model = llama::load_hf_llama(checkpoint, [&](int64_t done, int64_t total) {
        line.show("quantize: reading " + std::to_string(done) + "/" + std::to_string(total) + " tensors", done == total);
      });
    } catch (...) {
      line.clear();
      throw;
    }
  } else {
    const gguf::File file(o.input);
    const llama::GgufModel described = llama::describe_gguf(file);
    vocabulary = vocabulary_of(file);
    write.name = file.find_string("general.name").value_or("");
    model = llama::load_gguf(file, described, at::kCPU, at::kFloat);
  }
  LiveLine& line = LiveLine::on_stderr();
  write.progress = [&](int64_t done, int64_t total) {
    line.show("quantize: " + std::to_string(done) + "/" + std::to_string(total) + " tensors", done == total);
  };
  try {
    llama::write_gguf(model, vocabulary, write, o.output);
  } catch (const std::runtime_error& e) {
    line.clear();
    throw UsageError(std::string("OUT: ") + e.what());
  }
  line.clear();
  const gguf::File written(o.output);
  const llama::GgufModel m = llama::describe_gguf(written);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << printf_string("wrote %s: %s, %.2f GiB, %.3f B parameters, %zu tensors, in %.1f s\n", o.output.c_str(),
                             m.label.c_str(), double(m.tensor_bytes) / double(1ull << 30), double(m.parameters) / 1e9,
                             written.tensors().size(), seconds);
  return 0;
}

}  // namespace mlspeed::cli
