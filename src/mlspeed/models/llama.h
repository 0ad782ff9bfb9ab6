// Llama (Touvron et al. 2023) as Hugging Face's LlamaForCausalLM, read top to bottom:
//
//   input_ids (B,T) -> embed_tokens
//     -> num_hidden_layers x LlamaDecoderLayer (pre-norm):
//          x = x + o_proj(attention(rope(q_proj(h)), rope(k_proj(h)), v_proj(h))),  h = input_layernorm(x)
//          x = x + down_proj(silu(gate_proj(h)) * up_proj(h)),          h = post_attention_layernorm(x)
//     -> norm -> lm_head (untied) -> logits (B,T,vocab)
//
// Parameter names are exactly Hugging Face's, so a Llama-2 or TinyLlama model.safetensors loads
// by name:
//   model.embed_tokens.weight,
//   model.layers.N.self_attn.{q_proj,k_proj,v_proj,o_proj}.weight (no biases),
//   model.layers.N.mlp.{gate_proj,up_proj,down_proj}.weight,
//   model.layers.N.input_layernorm.weight, model.layers.N.post_attention_layernorm.weight,
//   model.norm.weight, lm_head.weight
// The rotary tables are no parameters or buffers (HF's inv_freq is non-persistent; old
// checkpoints that saved "rotary_emb.inv_freq" are loaded with that suffix ignored).
//
// Details that decide whether real weights give real text:
//   * RMSNorm, eps 1e-5, computed in float32 and cast back before the gain, as HF does.
//   * Rotary embeddings with theta 10000 in HF's rotate_half convention (the two halves of a
//     head are the pairs), not Meta's interleaved one: HF checkpoints are permuted for it.
//     cos/sin are computed in float32 and cast to the activations' dtype, as HF does.
//   * Grouped-query attention (num_key_value_heads < num_attention_heads, TinyLlama): query
//     head h reads key/value head h / (heads / kv_heads), HF's repeat_kv. The KV cache holds
//     only the kv heads.
//
// The parameters are created directly with the TensorOptions given (device and dtype), so that
// a 7B model is never materialised in float32 on the host; init_weights fills them from a
// generator (HF's init: normal(0, 0.02) for every matrix, ones for the norm gains).
//
// Stored weights (a ModelFormat, core/weight_format.h): every matrix and the embedding in the
// format llama.cpp's quantiser gives its role and layer (Q4_0 keeps lm_head in Q6_K; Q4_K_M gives
// some attn_v and ffn_down Q6_K), as quant::QuantizedMatrix blocks, the buffer "<name>.blocks"
// in place of the parameter "<name>.weight"; the norms stay dense in the options' dtype. A matrix
// whose format is the options' dtype is an ordinary parameter. Such a model computes in the
// options' dtype and takes no gradient of its stored matrices; it must not be cast (to(dtype)
// would cast the blocks too), only built where it runs.
//
// FLOPs per token (inference, counted as the 2N convention with attention added):
//   2 * N_body + 2 * vocab * hidden (lm_head, only for the positions whose logits are computed)
//     + 4 * L * hidden * context
// where N_body = every parameter except embed_tokens (a lookup, no FLOPs) and lm_head, i.e.
// the layers and the final norm (norm gains counted at 2 FLOPs each, as the convention does;
// they are 0.001% of it), and `context` the number of keys the token attends to: QK^T is
// 2 * head_dim * context per head and AV as much, over heads * head_dim = hidden (also with
// GQA: every query head does the work). See inference_flops_per_token for pp and tg.
//
// Bytes per generated token (tg's roofline: decoding one token at a time is bound by memory):
// every weight the token multiplies by once (the layers, the final norm and lm_head, shared by
// the batch's tokens of a decode step, and the one embedding row it looks up) plus the keys and
// values it attends over; see decode_bytes_per_token.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "mlspeed/core/weight_format.h"
#include "mlspeed/models/kv_cache.h"
#include "mlspeed/quant/quantized_matrix.h"

namespace mlspeed::llama {

// Defaults are Llama-2-7B's config.json (meta-llama/Llama-2-7b-hf).
struct LlamaConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;
  int64_t max_position_embeddings = 4096;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// How the model's matrices are stored: none, dense in the options' dtype; else a file type whose
// per-tensor formats tensor_format() gives (with the layer count it needs), unless `exact` gives
// them (a GGUF file's own: its quantiser's mix may differ from today's llama.cpp's).
struct StoredWeights {
  std::optional<ModelFormat> format;
  int64_t layers = 1;
  std::map<std::pair<TensorRole, int64_t>, WeightFormat> exact;  // (role, layer; 0 outside layers)
  // The format of the weight of `role` in `layer`, rows of `cols`; none when it is dense in `dtype`.
  std::optional<WeightFormat> of(TensorRole role, int64_t layer, int64_t cols, at::ScalarType dtype) const;
};

// A Linear without bias whose weight (out, in) is created with the given options, or stored as
// blocks of `stored` (then `weight` is undefined and `blocks` holds them).
class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, const at::TensorOptions& options, std::optional<WeightFormat> stored = {});
  at::Tensor forward(const at::Tensor& x) { return blocks.defined() ? quant::linear(x, matrix()) : at::linear(x, weight); }
  // The blocks as a matrix (defined only when stored).
  quant::QuantizedMatrix matrix() const { return {format, out_, in_, blocks}; }
  // What a fused product takes: the weight, or the blocks.
  const at::Tensor& storage() const { return blocks.defined() ? blocks : weight; }
  at::Tensor weight;
  at::Tensor blocks;  // uint8 (out, row bytes), when stored
  WeightFormat format = WeightFormat::f32;

 private:
  int64_t in_, out_;
};
TORCH_MODULE(Linear);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t count, int64_t dim, const at::TensorOptions& options, std::optional<WeightFormat> stored = {});
  at::Tensor forward(const at::Tensor& ids) {
    return blocks.defined() ? quant::gather_rows({format, count_, dim_, blocks}, ids, dtype_) : at::embedding(weight, ids);
  }
  at::Tensor weight;
  at::Tensor blocks;
  WeightFormat format = WeightFormat::f32;

 private:
  int64_t count_, dim_;
  at::ScalarType dtype_;
};
TORCH_MODULE(Embedding);

// HF's LlamaRMSNorm: weight * (x / sqrt(mean(x^2) + eps)), the normalisation in float32.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);
  double eps() const { return eps_; }
  at::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// HF's x * cos + rotate_half(x) * sin, rotate_half: (x1, x2) -> (-x2, x1) for the halves of the
// last dimension; cos and signed_sin (T, head_dim) from rotary_tables, broadcast over (B, heads,
// T, head_dim).
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signed_sin);
// The float32 tables (positions, head_dim) of HF's LlamaRotaryEmbedding: cos of the angle
// p * theta^(-2i/d) for i < d/2, the same angles repeated for the second half; and their sin,
// negated in the first half (the sign rotate_half gives it).
std::pair<at::Tensor, at::Tensor> rotary_tables(int64_t positions, int64_t head_dim, double theta);

// Causal attention of q (B, heads, T, D) over the cached k, v (B, kv_heads, past + T, D), with
// kv_heads dividing heads (query head h reads kv head h / (heads / kv_heads)). One new token
// (decoding) folds the query heads of a group into the query axis instead of copying k and v.
at::Tensor grouped_cached_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t past);
// One new query per sequence, q (B, heads, 1, D), over a whole cache layer k, v (B, kv_heads,
// capacity, D) with its decode mask (KVCache::decode_mask); the query heads of a group are folded
// into the query axis, as above.
at::Tensor grouped_decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& mask);

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const LlamaConfig& config, const at::TensorOptions& options, const StoredWeights& stored = {},
                     int64_t layer = 0);
  // x (B, T, hidden) at positions [past, past + T) with cos/sin for those positions; `cache`
  // (may be null) holds the past positions of this layer and receives the new ones.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, KVCache* cache,
                     int64_t layer);
  // Static decoding: x (B, 1, hidden), one new token per sequence at the cache's device position
  // (cos/sin its rows); k and v are written there and the token attends over the whole cache
  // with `mask` (KVCache::decode_mask).
  at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, KVCache& cache,
                    int64_t layer, const at::Tensor& mask);

  // Puts q, k and v's weights side by side in one tensor, the parameters becoming views of
  // it, so that one matrix product makes all three (see LlamaForCausalLMImpl::fuse_projections).
  void fuse();
  bool fused() const;
  // The fused q, k, v rows as one quantised matrix: defined when fused() and stored as blocks.
  quant::QuantizedMatrix qkv_matrix() const;
  // The fused rows as one dense weight ((heads + 2 kv_heads) head_dim, hidden): defined when
  // fused() and not stored as blocks.
  at::Tensor qkv_weight() const;
  int64_t heads() const { return heads_; }
  int64_t kv_heads() const { return kv_heads_; }

  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  // q, k (rotated) and v of x (B, T, hidden), each (B, n, T, head_dim).
  std::vector<at::Tensor> project(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
  // y (B, heads, T, head_dim) -> o_proj of the heads side by side, (B, T, hidden).
  at::Tensor merge(const at::Tensor& y);

  int64_t heads_, kv_heads_, head_dim_;
  at::Tensor qkv_weight_;  // (heads + 2 kv_heads) * head_dim x hidden (or its blocks), when fused
};
TORCH_MODULE(LlamaAttention);

class LlamaMLPImpl : public torch::nn::Module {
 public:
  LlamaMLPImpl(const LlamaConfig& config, const at::TensorOptions& options, const StoredWeights& stored = {},
               int64_t layer = 0);
  at::Tensor forward(const at::Tensor& x);
  void fuse();  // gate and up in one tensor, as q, k, v above
  bool fused() const;
  // The fused gate and up rows as one quantised matrix: defined when fused() and stored as blocks.
  quant::QuantizedMatrix gate_up_matrix() const;
  at::Tensor gate_up_weight() const;  // dense (2 ffn, hidden), as qkv_weight() above

  Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};

 private:
  at::Tensor gate_up_weight_;  // 2 ffn x hidden, when fused
};
TORCH_MODULE(LlamaMLP);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  LlamaDecoderLayerImpl(const LlamaConfig& config, const at::TensorOptions& options, const StoredWeights& stored = {},
                        int64_t layer = 0);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, KVCache* cache,
                     int64_t layer);
  at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, KVCache& cache,
                    int64_t layer, const at::Tensor& mask);  // as LlamaAttention's

  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// HF's LlamaModel: the embedding, the layers and the final norm (the "model." of the names).
class LlamaModelImpl : public torch::nn::Module {
 public:
  LlamaModelImpl(const LlamaConfig& config, const at::TensorOptions& options, const StoredWeights& stored = {});

  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  std::vector<LlamaDecoderLayer> typed_layers;  // the modules of `layers`, typed
};
TORCH_MODULE(LlamaModel);

class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  // Creates the parameters, uninitialised, with `options` (device and dtype); call
  // init_weights (random) or load weights before use.
  // `stored`: how the matrices are stored (see the top; its layer count is the config's); by
  // default dense in the options' dtype.
  explicit LlamaForCausalLMImpl(const LlamaConfig& config,
                                const at::TensorOptions& options = at::TensorOptions(at::kFloat),
                                const StoredWeights& stored = {});

  // HF's init: normal(0, 0.02) from `generator` for every matrix (embedding and lm_head
  // included), ones for the RMSNorm gains; stored matrices get random blocks of that spread
  // (quant::fill_random). The generator's device must be the parameters'.
  void init_weights(at::Generator generator);

  // ids: int64 (B, T). Without a cache the positions are 0..T-1; with one, past = its length:
  // the positions are past..past+T-1, the new keys and values are appended and the cache is
  // advanced by T. `last_only`: logits of the last position only, (B, 1, vocab), as generation
  // needs (the final norm and lm_head skip the others); otherwise (B, T, vocab).
  at::Tensor forward(const at::Tensor& ids, KVCache* cache = nullptr, bool last_only = false);
  // Static decoding (a step a CUDA graph can replay): ids (B, 1), one new token per sequence at
  // the cache's device position (KVCache::position(), not length()): its rotary rows are
  // gathered at that position, its keys and values written there, and the device position is
  // advanced. Returns the logits (B, 1, vocab), those of forward(ids, cache, true) at that
  // position, without reading any device value on the host.
  at::Tensor decode_step(const at::Tensor& ids, KVCache& cache);

  // decode_step through the fused kernels of fused/decode_kernels.h, when they can take it: a CUDA
  // device with mlspeed's kernels, and either every layer's projections quantised (one to
  // quant::kCudaGemvRows sequences) or every layer dense in x's dtype with q, k, v and gate, up
  // fused (models/llama_fused_decode.cpp). Eight kernels a layer in place of about twenty (more
  // where quantised q, k and v or gate and up are not one matrix), attention over the filled
  // positions only; the same logits up to the order of float32 sums. Empty when they cannot;
  // then decode_step takes LibTorch's ops.
  std::optional<at::Tensor> fused_decode_step(const at::Tensor& x, KVCache& cache);

  // Fuses the projections that read the same input (q, k, v; gate, up) into one matrix
  // product each: the parameters become views of one tensor per layer, with their names,
  // shapes and values unchanged (weights load into them in place). Moving or casting the model
  // afterwards (to()) gives the parameters separate storage again; the layers notice and use
  // the separate products until fuse_projections() is called again. Decoding one token is
  // bound by kernel launches as much as by memory: this saves 3 of about 40 per layer.
  void fuse_projections();

  // A cache of `max_len` positions for `batch` sequences, in the dtype and on the device of
  // the parameters (kv heads only).
  KVCache make_cache(int64_t batch, int64_t max_len) const;

  const LlamaConfig& config() const { return config_; }
  const std::optional<ModelFormat>& weight_format() const { return stored_.format; }
  const StoredWeights& stored_weights() const { return stored_; }

  LlamaModel model{nullptr};
  Linear lm_head{nullptr};

 private:
  // cos/sin tables in the dtype and on the device of `like`, for every position; made on
  // first use and again after the model moved (plain members, not buffers).
  const std::pair<at::Tensor, at::Tensor>& rotary_for(const at::Tensor& like);

  LlamaConfig config_;
  StoredWeights stored_;
  std::pair<at::Tensor, at::Tensor> rotary_float_;  // float32, CPU
  std::pair<at::Tensor, at::Tensor> rotary_;        // cast and moved
};
TORCH_MODULE(LlamaForCausalLM);

// Every parameter, counted from the configuration without building the model: per layer
// 2 h^2 + 2 h kv (q, o; k, v with kv = kv_heads * head_dim) + 3 h ffn + 2 h (norms); plus the
// embedding and lm_head (vocab * h each) and the final norm (h). Llama-2-7B: 6,738,415,616.
int64_t count_params(const LlamaConfig& config);
// The same, less embed_tokens and lm_head: N_body of the FLOPs formula above.
int64_t count_body_params(const LlamaConfig& config);

// Inference FLOPs per processed token of one step (see the formula at the top):
//  * prompt processing of `prompt` tokens into an empty cache, logits of the last position only:
//    2 N_body + 2 vocab h / prompt + 4 L h (prompt + 1) / 2
//    (token i, from 0, attends to i + 1 keys: the mean context is (prompt + 1) / 2; lm_head runs
//    once per sequence, shared by its prompt tokens);
//  * generation of `new_tokens` tokens one at a time from an empty cache (llama-bench's tg):
//    2 N_body + 2 vocab h + 4 L h (new_tokens + 1) / 2
//    (decode step j, from 0, attends to the j cached keys and its own: j + 1).
// Exactly one of prompt and new_tokens is positive. With `depth` positions already in the cache
// (llama-bench's -d), every token also attends to them: the mean context grows by depth.
double inference_flops_per_token(const LlamaConfig& config, int64_t prompt, int64_t new_tokens, int64_t depth = 0);

// The fewest bytes one generated token reads from device memory in a decode step (tg: the
// roofline of decoding, bound by memory, not FLOPs), with `element_size` bytes per weight and
// per cached element:
//   ((N_body + vocab h) / batch + h + 2 L kv_heads head_dim (new_tokens + 1) / 2) element_size
// Every weight the token multiplies by once: the layers and the final norm (N_body) and lm_head,
// read once per decode step for its `batch` tokens, and the one row of embed_tokens it looks up
// (the table's other rows are not read). The cache term is the keys and values (kv heads only)
// of every layer over the context the token attends to, at the mean of the decode steps,
// (new_tokens + 1) / 2 as in the FLOPs above.
// With stored weights (`stored.format`), each matrix counts its blocks' bytes (storage_bytes of
// its format, so Q4_0 is 4.5 bits a weight) and the embedding row its blocks; the norm gains and
// the cache stay at `element_size`. With `depth` positions already in the cache, each token
// reads them too: the mean context grows by depth.
double decode_bytes_per_token(const LlamaConfig& config, int64_t new_tokens, int64_t batch, int64_t element_size,
                              const StoredWeights& stored = {}, int64_t depth = 0);
// The bytes of every weight as stored: the matrices (by their formats), the embedding and the
// norm gains at `element_size`; what the model occupies in memory and in a GGUF file.
double weight_bytes(const LlamaConfig& config, int64_t element_size, const StoredWeights& stored = {});

// llama.cpp's model type for a Llama of this depth (llama-model.cpp: "7B", "13B", "70B", "8B",
// "1B"), else the parameters in words ("134M").
std::string size_label(const LlamaConfig& config, int64_t parameters);
// llama-bench's model column: "llama 7B Q4_0".
std::string model_label(const LlamaConfig& config, int64_t parameters, ModelFormat format);

}  // namespace mlspeed::llama
