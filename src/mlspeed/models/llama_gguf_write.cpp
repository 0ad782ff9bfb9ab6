#include "mlspeed/models/llama_gguf_write.h"

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "mlspeed/core/numerics.h"
#include "mlspeed/core/text.h"
#include "mlspeed/io/gguf_writer.h"
#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/quant/quantized_matrix.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::llama {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::vector<uint8_t> bytes_of(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

// A matrix's bytes in `target` (rows in llama.cpp's order when `heads` is given): the stored
// blocks as they are when they already are `target`, else the values quantised anew.
std::vector<uint8_t> matrix_bytes_for(const at::Tensor& weight, const at::Tensor& blocks, WeightFormat stored,
                                      int64_t rows, int64_t cols, WeightFormat target, std::optional<int64_t> heads) {
  const std::optional<at::Tensor> order =
      heads ? std::optional<at::Tensor>(unpermute_rows(rows, *heads, /*inverse=*/true)) : std::nullopt;
  const auto reorder = [&](const at::Tensor& t) { return order ? t.index_select(0, *order) : t; };
  if (blocks.defined() && stored == target) return bytes_of(reorder(blocks.cpu()));
  const at::Tensor dense =
      reorder(blocks.defined() ? quant::dequantize({stored, rows, cols, blocks}, at::kFloat).cpu()
                               : weight.detach().to(at::kCPU, at::kFloat));
  if (!traits(target).quantized) return bytes_of(dense.to(dtype_of(target)));
  return bytes_of(quant::quantize(dense, target, at::kCPU).blocks);
}

void set_metadata(gguf::Writer& w, const LlamaConfig& c, const GgufVocabulary& v, const GgufWriteOptions& o) {
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", o.name);
  w.set_uint32("general.file_type", llama_file_type(o.format));
  if (is_quantized(o.format)) w.set_uint32("general.quantization_version", 2);
  w.set_uint32("llama.context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.set_uint32("llama.embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.set_uint32("llama.block_count", static_cast<uint32_t>(c.num_hidden_layers));
  w.set_uint32("llama.feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.set_uint32("llama.rope.dimension_count", static_cast<uint32_t>(c.head_dim()));
  w.set_uint32("llama.attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
  w.set_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
  w.set_float32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w.set_float32("llama.rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_string("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.set_string("tokenizer.ggml.pre", v.pre);
  w.set_string_array("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w.set_float_array("tokenizer.ggml.scores", v.scores);
  w.set_int32_array("tokenizer.ggml.token_type", v.types);
  if (!v.merges.empty()) w.set_string_array("tokenizer.ggml.merges", v.merges);
  w.set_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos));
  w.set_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos));
  if (v.unknown >= 0) w.set_uint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(v.unknown));
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

GgufVocabulary synthetic_vocabulary(int64_t size) {
  if (size < 259) throw std::invalid_argument("a Llama vocabulary holds at least 259 tokens (3 special, 256 bytes)");
  GgufVocabulary v;
  const auto add = [&](std::string token, float score, int32_t type) {
    v.tokens.push_back(std::move(token));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) add(printf_string("<0x%02X>", b), 0, 6);
  // "▁", then letter runs of growing length, each after the space mark and alone: every piece is
  // a shorter piece plus one letter, so merging reaches it.
  const auto full = [&] { return int64_t(v.tokens.size()) >= size; };
  if (!full()) add(kSpace, -float(v.tokens.size() - 259), 1);
  for (std::vector<std::string> runs = {""}; !full();) {
    std::vector<std::string> longer;
    for (const std::string& run : runs)
      for (char letter = 'a'; letter <= 'z'; ++letter) longer.push_back(run + letter);
    for (const std::string& run : longer)
      for (const std::string& piece : {kSpace + run, run})
        if (!full()) add(piece, -float(v.tokens.size() - 259), 1);
    runs = std::move(longer);
  }
  return v;
}

GgufVocabulary synthetic_llama3_vocabulary(int64_t size) {
  const std::vector<std::string> specials = {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                             "<|end_header_id|>", "<|eot_id|>"};
  if (size < 256 + int64_t(specials.size()))
    throw std::invalid_argument("a Llama 3 vocabulary holds at least 261 tokens (256 bytes, 5 special)");
  GgufVocabulary v;
  v.model = "gpt2";
  v.pre = "llama-bpe";
  v.unknown = -1;
  // GPT-2's bytes_to_unicode, in its order: the printable bytes as themselves, then the other 68
  // bytes as U+0100, U+0101, ...
  std::vector<bool> printable(256, false);
  for (int b = 0; b < 256; ++b) printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  std::string space;
  for (int b = 0; b < 256; ++b)
    if (printable[b]) v.tokens.push_back(utf8::encode(std::u32string(1, char32_t(b))));
  char32_t next = 256;
  for (int b = 0; b < 256; ++b)
    if (!printable[b]) {
      v.tokens.push_back(utf8::encode(std::u32string(1, next++)));
      if (b == ' ') space = v.tokens.back();  // "Ġ"
    }
  // Letter runs, each after "Ġ" and alone: a shorter run (or "Ġ" and a shorter run) and one letter.
  const int64_t pieces = size - int64_t(specials.size());
  for (std::vector<std::string> runs = {""}; int64_t(v.tokens.size()) < pieces;) {
    std::vector<std::string> longer;
    for (const std::string& run : runs)
      for (char letter = 'a'; letter <= 'z'; ++letter) {
        longer.push_back(run + letter);
        for (const std::string& prefix : {space, std::string()}) {
          if (prefix.empty() && run.empty()) continue;  // a letter alone is a byte token
          if (int64_t(v.tokens.size()) >= pieces) break;
          v.merges.push_back(prefix + run + " " + letter);
          v.tokens.push_back(prefix + run + letter);
        }
      }
    runs = std::move(longer);
  }
  for (const std::string& special : specials) v.tokens.push_back(special);
  v.types.assign(v.tokens.size(), 1);
  std::fill(v.types.end() - int64_t(specials.size()), v.types.end(), 3);
  v.bos = static_cast<int32_t>(pieces);
  v.eos = static_cast<int32_t>(pieces + 1);
  return v;
}

void write_gguf(LlamaForCausalLM& model, const GgufVocabulary& vocabulary, const GgufWriteOptions& options,
                const std::string& path) {
  const LlamaConfig& c = model->config();
  if (int64_t(vocabulary.tokens.size()) != c.vocab_size)
    throw std::invalid_argument("a vocabulary of " + std::to_string(vocabulary.tokens.size()) +
                                " tokens for a model of " + std::to_string(c.vocab_size));
  c10::InferenceMode normal_tensors(false);  // first: it turns gradients back on
  torch::NoGradGuard no_grad;
  gguf::Writer w;
  set_metadata(w, c, vocabulary, options);
  const int64_t total = 3 + 9 * c.num_hidden_layers;
  int64_t done = 0;
  const auto tensor = [&](const std::string& name, std::vector<int64_t> dims, WeightFormat format,
                          std::vector<uint8_t> bytes) {
    w.add_tensor(name, dims, format, std::move(bytes));
    if (options.progress) options.progress(++done, total);
  };
  const auto matrix = [&](const std::string& name, const LinearImpl& l, TensorRole role, int64_t layer, int64_t rows,
                          int64_t cols, std::optional<int64_t> heads = std::nullopt) {
    const WeightFormat target = tensor_format(options.format, role, layer, c.num_hidden_layers, cols);
    tensor(name, {cols, rows}, target, matrix_bytes_for(l.weight, l.blocks, l.format, rows, cols, target, heads));
  };
  const auto norm = [&](const std::string& name, const at::Tensor& gain) {
    tensor(name, {gain.size(0)}, WeightFormat::f32, bytes_of(gain.detach().to(at::kCPU, at::kFloat)));
  };
  const int64_t h = c.hidden_size, kv = c.num_key_value_heads * c.head_dim(), ffn = c.intermediate_size;
  const EmbeddingImpl& e = *model->model->embed_tokens;
  const WeightFormat embedding_format = tensor_format(options.format, TensorRole::embedding, 0, c.num_hidden_layers, h);
  tensor("token_embd.weight", {h, c.vocab_size}, embedding_format,
         matrix_bytes_for(e.weight, e.blocks, e.format, c.vocab_size, h, embedding_format, std::nullopt));
  norm("output_norm.weight", model->model->norm->weight);
  matrix("output.weight", *model->lm_head, TensorRole::output, 0, c.vocab_size, h);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const LlamaDecoderLayerImpl& layer = *model->model->typed_layers[i];
    const std::string blk = "blk." + std::to_string(i) + ".";
    matrix(blk + "attn_q.weight", *layer.self_attn->q_proj, TensorRole::attn_q, i, h, h, c.num_attention_heads);
    matrix(blk + "attn_k.weight", *layer.self_attn->k_proj, TensorRole::attn_k, i, kv, h, c.num_key_value_heads);
    matrix(blk + "attn_v.weight", *layer.self_attn->v_proj, TensorRole::attn_v, i, kv, h);
    matrix(blk + "attn_output.weight", *layer.self_attn->o_proj, TensorRole::attn_output, i, h, h);
    matrix(blk + "ffn_gate.weight", *layer.mlp->gate_proj, TensorRole::ffn_gate, i, ffn, h);
    matrix(blk + "ffn_down.weight", *layer.mlp->down_proj, TensorRole::ffn_down, i, h, ffn);
    matrix(blk + "ffn_up.weight", *layer.mlp->up_proj, TensorRole::ffn_up, i, ffn, h);
    norm(blk + "attn_norm.weight", layer.input_layernorm->weight);
    norm(blk + "ffn_norm.weight", layer.post_attention_layernorm->weight);
  }
  w.write(path);
}

}  // namespace mlspeed::llama
