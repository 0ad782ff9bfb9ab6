#include "mlspeed/models/llama.h"

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/numerics.h"
#include "mlspeed/core/text.h"
#include "mlspeed/fused/kernel_fault.h"

namespace mlspeed::llama {
namespace {

// The weights stacked by rows into one new tensor, each weight's tensor (the registered
// parameter) made a view of its rows: values, names and shapes stay, the storage is shared.
at::Tensor fuse_rows(const std::vector<at::Tensor>& weights) {
  torch::NoGradGuard no_grad;
  c10::InferenceMode normal_tensors(false);
  const at::Tensor fused = at::cat(weights, 0);
  int64_t row = 0;
  for (const at::Tensor& w : weights) {
    const int64_t rows = w.size(0);
    w.set_data(fused.narrow(0, row, rows));  // the parameter itself (a shared TensorImpl)
    row += rows;
  }
  return fused;
}

// Whether `weights` are still the consecutive row blocks of `fused` (moving or casting a module
// gives its parameters new storage).
bool are_rows_of(const at::Tensor& fused, const std::vector<at::Tensor>& weights) {
  if (!fused.defined()) return false;
  int64_t offset = fused.storage_offset();
  for (const at::Tensor& w : weights) {
    if (!w.is_alias_of(fused) || w.storage_offset() != offset || w.scalar_type() != fused.scalar_type()) return false;
    offset += w.numel();
  }
  return true;
}

at::ScalarType options_dtype(const at::TensorOptions& options) { return c10::typeMetaToScalarType(options.dtype()); }

// Whether the linears' weights can be stacked into one matrix: all dense, or all blocks of one format.
bool same_storage(std::initializer_list<std::reference_wrapper<const LinearImpl>> linears) {
  const LinearImpl& first = linears.begin()->get();
  for (const LinearImpl& l : linears)
    if (l.blocks.defined() != first.blocks.defined() || (l.blocks.defined() && l.format != first.format)) return false;
  return true;
}

// x times a fused matrix (the weights or blocks of `like`'s kind, stacked by rows).
at::Tensor fused_product(const at::Tensor& x, const at::Tensor& fused, const LinearImpl& like) {
  if (!like.blocks.defined()) return at::linear(x, fused);
  return quant::linear(x, {like.format, fused.size(0), x.size(-1), fused});
}

}  // namespace

std::optional<WeightFormat> StoredWeights::of(TensorRole role, int64_t layer, int64_t cols, at::ScalarType dtype) const {
  if (!format) return std::nullopt;
  const auto given = exact.find({role, layer});
  const WeightFormat f = given != exact.end() ? given->second : tensor_format(*format, role, layer, layers, cols);
  if (!traits(f).quantized && dtype_of(f) == dtype) return std::nullopt;  // dense in the compute dtype
  return f;
}

LinearImpl::LinearImpl(int64_t in, int64_t out, const at::TensorOptions& options, std::optional<WeightFormat> stored)
    : in_(in), out_(out) {
  if (!stored) {
    weight = register_parameter("weight", at::empty({out, in}, options));
    return;
  }
  format = *stored;
  blocks = register_buffer("blocks", quant::empty_matrix(format, out, in, options.device()).blocks);
}

EmbeddingImpl::EmbeddingImpl(int64_t count, int64_t dim, const at::TensorOptions& options,
                             std::optional<WeightFormat> stored)
    : count_(count), dim_(dim), dtype_(c10::typeMetaToScalarType(options.dtype())) {
  if (!stored) {
    weight = register_parameter("weight", at::empty({count, dim}, options));
    return;
  }
  format = *stored;
  blocks = register_buffer("blocks", quant::empty_matrix(format, count, dim, options.device()).blocks);
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps, const at::TensorOptions& options) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}, options));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  // Decoding on a GPU: one kernel instead of six, a token's 64 norms being a sixth of its launches.
  // It rounds once where HF's expression rounds twice (before and after the gain): within one
  // unit of the dtype's rounding, which verification's tolerances take.
  const bool records_gradient = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  // The verifier's fault: Gemma's 1 + gain on a Llama, as the fused CUDA kernel takes it too.
  const at::Tensor gain = fused::kernel_fault() == fused::KernelFault::norm_gain_offset ? weight + 1 : weight;
  if (!records_gradient)
    if (auto fused = compat::fused_rms_norm(x, gain, eps_)) return *fused;
  const at::Tensor h = x.to(at::kFloat);
  const at::Tensor inv_rms = at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (h.requires_grad()) return gain * (h * inv_rms).to(x.scalar_type());  // out= ops take no gradient
  // The product in float32 written straight in x's dtype: the same rounding as the product and
  // then a cast, one kernel fewer (decoding a token is bound by kernel launches).
  at::Tensor normed = at::empty_like(x);
  at::mul_out(normed, h, inv_rms);
  return gain * normed;
}

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signed_sin) {
  // HF's x * cos + rotate_half(x) * sin, where rotate_half(x) = (-x2, x1): rolling x by half a
  // head gives (x2, x1), and the table's sign does the rest. Three kernels instead of five (mul,
  // neg, cat, mul, add): decoding runs them in each of Llama-2-7B's 32 layers for every token.
  at::Tensor out = x * cos;
  return out.addcmul_(at::roll(x, x.size(-1) / 2, -1), signed_sin);
}

std::pair<at::Tensor, at::Tensor> rotary_tables(int64_t positions, int64_t head_dim, double theta) {
  const at::Tensor exponents = at::arange(0, head_dim, 2, at::kLong).to(at::kFloat) / double(head_dim);
  const at::Tensor inv_freq = 1.0 / at::pow(theta, exponents);                     // (head_dim / 2)
  const at::Tensor angles = at::outer(at::arange(positions, at::kLong).to(at::kFloat), inv_freq);
  const at::Tensor sin = angles.sin();
  return {at::cat({angles, angles}, -1).cos(), at::cat({-sin, sin}, -1)};           // (positions, head_dim)
}

at::Tensor grouped_cached_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t past) {
  const int64_t heads = q.size(1), kv_heads = k.size(1);
  if (heads == kv_heads) return cached_attention(q, k, v, past);
  TORCH_CHECK(kv_heads > 0 && heads % kv_heads == 0, "[Llama] ", heads, " query heads cannot share ", kv_heads,
              " key/value heads");
  const int64_t group = heads / kv_heads, B = q.size(0), T = q.size(2), D = q.size(3);
  if (T == 1) {
    // One new token sees every cached key: the `group` query heads of a kv head become `group`
    // queries of it, with no mask, and k and v are read in place.
    const at::Tensor grouped = q.reshape({B, kv_heads, group, D});
    return compat::sdpa(grouped, k, v, /*is_causal=*/false, 0.0).reshape({B, heads, 1, D});
  }
  const auto repeat = [&](const at::Tensor& t) {  // HF's repeat_kv
    return t.unsqueeze(2).expand({B, kv_heads, group, t.size(2), D}).reshape({B, heads, t.size(2), D});
  };
  return cached_attention(q, repeat(k), repeat(v), past);
}

at::Tensor grouped_decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& mask) {
  const int64_t heads = q.size(1), kv_heads = k.size(1);
  if (heads == kv_heads) return decode_attention(q, k, v, mask);
  TORCH_CHECK(kv_heads > 0 && heads % kv_heads == 0, "[Llama] ", heads, " query heads cannot share ", kv_heads,
              " key/value heads");
  // The `group` query heads of a kv head become `group` queries of it; they share the one mask row.
  const int64_t B = q.size(0), D = q.size(3);
  const at::Tensor grouped = q.reshape({B, kv_heads, heads / kv_heads, D});
  return decode_attention(grouped, k, v, mask).reshape({B, heads, 1, D});
}

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c, const at::TensorOptions& options,
                                       const StoredWeights& s, int64_t layer)
    : q_proj(register_module("q_proj", Linear(c.hidden_size, c.num_attention_heads * c.head_dim(), options,
                                              s.of(TensorRole::attn_q, layer, c.hidden_size, options_dtype(options))))),
      k_proj(register_module("k_proj", Linear(c.hidden_size, c.num_key_value_heads * c.head_dim(), options,
                                              s.of(TensorRole::attn_k, layer, c.hidden_size, options_dtype(options))))),
      v_proj(register_module("v_proj", Linear(c.hidden_size, c.num_key_value_heads * c.head_dim(), options,
                                              s.of(TensorRole::attn_v, layer, c.hidden_size, options_dtype(options))))),
      o_proj(register_module("o_proj", Linear(c.num_attention_heads * c.head_dim(), c.hidden_size, options,
                                              s.of(TensorRole::attn_output, layer, c.num_attention_heads * c.head_dim(), options_dtype(options))))),
      heads_(c.num_attention_heads),
      kv_heads_(c.num_key_value_heads),
      head_dim_(c.head_dim()) {}

void LlamaAttentionImpl::fuse() {
  if (same_storage({*q_proj, *k_proj, *v_proj}))
    qkv_weight_ = fuse_rows({q_proj->storage(), k_proj->storage(), v_proj->storage()});
}

bool LlamaAttentionImpl::fused() const {
  return are_rows_of(qkv_weight_, {q_proj->storage(), k_proj->storage(), v_proj->storage()});
}

quant::QuantizedMatrix LlamaAttentionImpl::qkv_matrix() const {
  if (!fused() || !q_proj->blocks.defined()) return {};
  return {q_proj->format, qkv_weight_.size(0), q_proj->matrix().cols, qkv_weight_};
}

at::Tensor LlamaAttentionImpl::qkv_weight() const {
  return fused() && !q_proj->blocks.defined() ? qkv_weight_ : at::Tensor();
}

std::vector<at::Tensor> LlamaAttentionImpl::project(const at::Tensor& x, const at::Tensor& cos,
                                                    const at::Tensor& sin) {
  const int64_t B = x.size(0), T = x.size(1);
  if (fused()) {
    // One product for q, k and v; the rotary embedding of q and k in one go.
    const at::Tensor qkv = fused_product(x, qkv_weight_, *q_proj).view({B, T, heads_ + 2 * kv_heads_, head_dim_});
    const at::Tensor qk = apply_rotary(qkv.narrow(2, 0, heads_ + kv_heads_).transpose(1, 2), cos, sin);
    return {qk.narrow(1, 0, heads_), qk.narrow(1, heads_, kv_heads_),
            qkv.narrow(2, heads_ + kv_heads_, kv_heads_).transpose(1, 2)};
  }
  // (B, T, n * head_dim) -> (B, n, T, head_dim)
  const auto split = [&](const at::Tensor& t, int64_t n) { return t.view({B, T, n, head_dim_}).transpose(1, 2); };
  return {apply_rotary(split(q_proj(x), heads_), cos, sin), apply_rotary(split(k_proj(x), kv_heads_), cos, sin),
          split(v_proj(x), kv_heads_)};
}

at::Tensor LlamaAttentionImpl::merge(const at::Tensor& y) {
  const int64_t B = y.size(0), T = y.size(2);
  return o_proj(y.transpose(1, 2).reshape({B, T, heads_ * head_dim_}));
}

at::Tensor LlamaAttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                       KVCache* cache, int64_t layer) {
  std::vector<at::Tensor> qkv = project(x, cos, sin);
  at::Tensor &k = qkv[1], &v = qkv[2];
  int64_t past = 0;
  if (cache) {
    past = cache->length();
    std::tie(k, v) = cache->append(layer, k, v);
  }
  return merge(grouped_cached_attention(qkv[0], k, v, past));
}

at::Tensor LlamaAttentionImpl::decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                      KVCache& cache, int64_t layer, const at::Tensor& mask) {
  std::vector<at::Tensor> qkv = project(x, cos, sin);
  if (fused::kernel_fault() == fused::KernelFault::scores_unscaled)  // the verifier's faults
    qkv[0] = qkv[0] * std::sqrt(static_cast<double>(head_dim_));
  if (fused::kernel_fault() == fused::KernelFault::new_key_unrotated)
    qkv[1] = project(x, at::ones_like(cos), at::zeros_like(sin))[1];
  const auto [keys, values] = cache.write_at_position(layer, qkv[1], qkv[2]);
  return merge(grouped_decode_attention(qkv[0], keys, values, mask));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& c, const at::TensorOptions& options, const StoredWeights& s,
                           int64_t layer)
    : gate_proj(register_module("gate_proj", Linear(c.hidden_size, c.intermediate_size, options,
                                                    s.of(TensorRole::ffn_gate, layer, c.hidden_size, options_dtype(options))))),
      up_proj(register_module("up_proj", Linear(c.hidden_size, c.intermediate_size, options,
                                                s.of(TensorRole::ffn_up, layer, c.hidden_size, options_dtype(options))))),
      down_proj(register_module("down_proj", Linear(c.intermediate_size, c.hidden_size, options,
                                                    s.of(TensorRole::ffn_down, layer, c.intermediate_size, options_dtype(options))))) {}

void LlamaMLPImpl::fuse() {
  if (same_storage({*gate_proj, *up_proj})) gate_up_weight_ = fuse_rows({gate_proj->storage(), up_proj->storage()});
}

bool LlamaMLPImpl::fused() const {
  return are_rows_of(gate_up_weight_, {gate_proj->storage(), up_proj->storage()});
}

quant::QuantizedMatrix LlamaMLPImpl::gate_up_matrix() const {
  if (!fused() || !gate_proj->blocks.defined()) return {};
  return {gate_proj->format, gate_up_weight_.size(0), gate_proj->matrix().cols, gate_up_weight_};
}

at::Tensor LlamaMLPImpl::gate_up_weight() const {
  return fused() && !gate_proj->blocks.defined() ? gate_up_weight_ : at::Tensor();
}

at::Tensor LlamaMLPImpl::forward(const at::Tensor& x) {
  if (!fused()) return down_proj(at::silu(gate_proj(x)) * up_proj(x));
  const at::Tensor gate_up = fused_product(x, gate_up_weight_, *gate_proj);
  const int64_t ffn = gate_up.size(-1) / 2;
  return down_proj(at::silu(gate_up.narrow(-1, 0, ffn)) * gate_up.narrow(-1, ffn, ffn));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& c, const at::TensorOptions& options,
                                             const StoredWeights& stored, int64_t layer)
    : self_attn(register_module("self_attn", LlamaAttention(c, options, stored, layer))),
      mlp(register_module("mlp", LlamaMLP(c, options, stored, layer))),
      input_layernorm(register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options))),
      post_attention_layernorm(
          register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options))) {}

at::Tensor LlamaDecoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                          KVCache* cache, int64_t layer) {
  const at::Tensor h = x + self_attn(input_layernorm(x), cos, sin, cache, layer);
  return h + mlp(post_attention_layernorm(h));
}

at::Tensor LlamaDecoderLayerImpl::decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                         KVCache& cache, int64_t layer, const at::Tensor& mask) {
  const at::Tensor h = x + self_attn->decode(input_layernorm(x), cos, sin, cache, layer, mask);
  const at::Tensor normed = post_attention_layernorm(h);
  if (fused::kernel_fault() == fused::KernelFault::gate_up_swapped)  // the verifier's fault
    return h + mlp->down_proj(at::silu(mlp->up_proj(normed)) * mlp->gate_proj(normed));
  return h + mlp(normed);
}

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& c, const at::TensorOptions& options, const StoredWeights& stored)
    : embed_tokens(register_module("embed_tokens", Embedding(c.vocab_size, c.hidden_size, options,
                                                             stored.of(TensorRole::embedding, 0, c.hidden_size, options_dtype(options))))),
      layers(register_module("layers", torch::nn::ModuleList())),
      norm(register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps, options))) {
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    typed_layers.emplace_back(c, options, stored, i);
    layers->push_back(typed_layers.back());
  }
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& config, const at::TensorOptions& options,
                                           const StoredWeights& stored)
    : config_(config), stored_{stored.format, config.num_hidden_layers, stored.exact} {
  TORCH_CHECK(config.vocab_size > 0 && config.hidden_size > 0 && config.num_hidden_layers > 0 &&
                  config.intermediate_size > 0 && config.max_position_embeddings > 0,
              "[Llama] sizes must be positive");
  TORCH_CHECK(config.num_attention_heads > 0 && config.hidden_size % config.num_attention_heads == 0,
              "[Llama] hidden_size ", config.hidden_size, " is not a multiple of num_attention_heads ",
              config.num_attention_heads);
  TORCH_CHECK(config.head_dim() % 2 == 0, "[Llama] rotary embeddings need an even head_dim, got ", config.head_dim());
  TORCH_CHECK(config.num_key_value_heads > 0 && config.num_attention_heads % config.num_key_value_heads == 0,
              "[Llama] num_key_value_heads ", config.num_key_value_heads, " does not divide num_attention_heads ",
              config.num_attention_heads);
  model = register_module("model", LlamaModel(config, options, stored_));
  lm_head = register_module("lm_head", Linear(config.hidden_size, config.vocab_size, options,
                                              stored_.of(TensorRole::output, 0, config.hidden_size, options_dtype(options))));
  rotary_float_ = rotary_tables(config.max_position_embeddings, config.head_dim(), config.rope_theta);
}

void LlamaForCausalLMImpl::init_weights(at::Generator generator) {
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<Linear>()) {
      if (linear->blocks.defined()) {
        quant::QuantizedMatrix m = linear->matrix();
        quant::fill_random(m, generator);
      } else {
        linear->weight.normal_(0.0, 0.02, generator);
      }
    } else if (auto* embedding = module->as<Embedding>()) {
      if (embedding->blocks.defined()) {
        quant::QuantizedMatrix m{embedding->format, config_.vocab_size, config_.hidden_size, embedding->blocks};
        quant::fill_random(m, generator);
      } else {
        embedding->weight.normal_(0.0, 0.02, generator);
      }
    }
    else if (auto* norm = module->as<RMSNorm>()) {
      norm->weight.fill_(1.0);
    }
  }
}

const std::pair<at::Tensor, at::Tensor>& LlamaForCausalLMImpl::rotary_for(const at::Tensor& like) {
  if (!rotary_.first.defined() || rotary_.first.device() != like.device() ||
      rotary_.first.scalar_type() != like.scalar_type()) {
    c10::InferenceMode normal_tensors(false);  // usable outside InferenceMode too
    rotary_ = {rotary_float_.first.to(like.device(), like.scalar_type()),
               rotary_float_.second.to(like.device(), like.scalar_type())};
  }
  return rotary_;
}

at::Tensor LlamaForCausalLMImpl::forward(const at::Tensor& ids, KVCache* cache, bool last_only) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) > 0, "[Llama] expects token ids (batch, T) with T > 0, got ",
              ids.sizes());
  const int64_t T = ids.size(1);
  const int64_t past = cache ? cache->length() : 0;
  TORCH_CHECK(past + T <= config_.max_position_embeddings, "[Llama] positions ", past, " + ", T,
              " exceed max_position_embeddings ", config_.max_position_embeddings);
  at::Tensor x = model->embed_tokens(ids);
  const auto& tables = rotary_for(x);
  const at::Tensor cos = tables.first.narrow(0, past, T), sin = tables.second.narrow(0, past, T);
  for (size_t i = 0; i < model->typed_layers.size(); ++i)
    x = model->typed_layers[i](x, cos, sin, cache, static_cast<int64_t>(i));
  if (cache) cache->advance(T);
  if (last_only) x = x.narrow(1, T - 1, 1);
  return lm_head(model->norm(x));
}

at::Tensor LlamaForCausalLMImpl::decode_step(const at::Tensor& ids, KVCache& cache) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) == 1, "[Llama] a decode step takes one token per sequence, got ",
              ids.sizes());
  TORCH_CHECK(cache.max_length() <= config_.max_position_embeddings, "[Llama] a cache of ", cache.max_length(),
              " positions exceeds max_position_embeddings ", config_.max_position_embeddings);
  at::Tensor x = model->embed_tokens(ids);
  if (auto fused = fused_decode_step(x, cache)) return *fused;
  const auto& tables = rotary_for(x);
  const at::Tensor cos = tables.first.index_select(0, cache.position());  // (1, head_dim)
  const at::Tensor sin = tables.second.index_select(0, cache.position());
  const at::Tensor mask = cache.decode_mask(x.scalar_type());
  for (size_t i = 0; i < model->typed_layers.size(); ++i)
    x = model->typed_layers[i]->decode(x, cos, sin, cache, static_cast<int64_t>(i), mask);
  cache.advance_position();
  return lm_head(model->norm(x));
}

void LlamaForCausalLMImpl::fuse_projections() {
  for (auto& layer : model->typed_layers) {
    layer->self_attn->fuse();
    layer->mlp->fuse();
  }
}

KVCache LlamaForCausalLMImpl::make_cache(int64_t batch, int64_t max_len) const {
  const at::Tensor& w = model->norm->weight;  // dense in the compute dtype, however the matrices are stored
  return KVCache(config_.num_hidden_layers, batch, config_.num_key_value_heads, max_len, config_.head_dim(),
                 at::TensorOptions().dtype(w.scalar_type()).device(w.device()));
}

int64_t count_body_params(const LlamaConfig& c) {
  const int64_t h = c.hidden_size, kv = c.num_key_value_heads * c.head_dim();
  const int64_t per_layer = 2 * h * h + 2 * h * kv + 3 * h * c.intermediate_size + 2 * h;
  return c.num_hidden_layers * per_layer + h;  // + the final norm
}

int64_t count_params(const LlamaConfig& c) { return count_body_params(c) + 2 * c.vocab_size * c.hidden_size; }

double inference_flops_per_token(const LlamaConfig& c, int64_t prompt, int64_t new_tokens, int64_t depth) {
  TORCH_CHECK((prompt > 0) != (new_tokens > 0), "[Llama] a step processes a prompt or generates tokens, not both");
  TORCH_CHECK(depth >= 0, "[Llama] a negative depth");
  const double body = 2.0 * double(count_body_params(c));
  const double head = 2.0 * double(c.vocab_size) * double(c.hidden_size);
  const double attention = 4.0 * double(c.num_hidden_layers) * double(c.hidden_size);
  if (prompt > 0) return body + head / double(prompt) + attention * (double(depth) + double(prompt + 1) / 2.0);
  return body + head + attention * (double(depth) + double(new_tokens + 1) / 2.0);
}

namespace {

// The bytes of a (rows, cols) matrix of `role` in `layer`, as stored.
double matrix_bytes(const StoredWeights& s, TensorRole role, int64_t layer, int64_t rows, int64_t cols,
                    int64_t element_size) {
  if (!s.format) return double(rows) * double(cols) * double(element_size);
  const auto given = s.exact.find({role, layer});
  const WeightFormat f = given != s.exact.end() ? given->second : tensor_format(*s.format, role, layer, s.layers, cols);
  if (!traits(f).quantized && traits(f).block_bytes == element_size) return double(rows) * double(cols) * double(element_size);
  return double(rows) * double(storage_bytes(f, cols));
}

// Every matrix of the layers and lm_head (read once per decode step), and the layers' norm gains
// and the final norm's.
double shared_weight_bytes(const LlamaConfig& c, int64_t element_size, const StoredWeights& s) {
  const int64_t h = c.hidden_size, kv = c.num_key_value_heads * c.head_dim(), ffn = c.intermediate_size;
  double bytes = double(2 * c.num_hidden_layers + 1) * double(h) * double(element_size);  // norms
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    bytes += matrix_bytes(s, TensorRole::attn_q, l, h, h, element_size) +
             matrix_bytes(s, TensorRole::attn_k, l, kv, h, element_size) +
             matrix_bytes(s, TensorRole::attn_v, l, kv, h, element_size) +
             matrix_bytes(s, TensorRole::attn_output, l, h, h, element_size) +
             matrix_bytes(s, TensorRole::ffn_gate, l, ffn, h, element_size) +
             matrix_bytes(s, TensorRole::ffn_up, l, ffn, h, element_size) +
             matrix_bytes(s, TensorRole::ffn_down, l, h, ffn, element_size);
  }
  return bytes + matrix_bytes(s, TensorRole::output, 0, c.vocab_size, h, element_size);
}

}  // namespace

double decode_bytes_per_token(const LlamaConfig& c, int64_t new_tokens, int64_t batch, int64_t element_size,
                              const StoredWeights& stored, int64_t depth) {
  if (new_tokens < 1 || batch < 1) return 0.0;
  const StoredWeights s{stored.format, c.num_hidden_layers, stored.exact};
  const double shared = shared_weight_bytes(c, element_size, s);  // layers, final norm, lm_head
  const double row = matrix_bytes(s, TensorRole::embedding, 0, 1, c.hidden_size, element_size);
  const double context = double(depth) + double(new_tokens + 1) / 2.0;
  const double cache = 2.0 * double(c.num_hidden_layers) * double(c.num_key_value_heads * c.head_dim()) * context *
                       double(element_size);
  return shared / double(batch) + row + cache;
}

double weight_bytes(const LlamaConfig& c, int64_t element_size, const StoredWeights& stored) {
  const StoredWeights s{stored.format, c.num_hidden_layers, stored.exact};
  return shared_weight_bytes(c, element_size, s) +
         matrix_bytes(s, TensorRole::embedding, 0, c.vocab_size, c.hidden_size, element_size);
}

std::string size_label(const LlamaConfig& c, int64_t parameters) {
  switch (c.num_hidden_layers) {
    case 22: return "1B";
    case 26: return "3B";
    case 32: return c.vocab_size < 40000 ? "7B" : "8B";
    case 40: return "13B";
    case 48: return "34B";
    case 60: return "30B";
    case 80: return c.num_attention_heads == c.num_key_value_heads ? "65B" : "70B";
    default: break;
  }
  const double p = double(parameters);
  if (p >= 1e9) return printf_string("%.1fB", p / 1e9);
  return p >= 1e6 ? printf_string("%.0fM", p / 1e6) : printf_string("%.0fK", p / 1e3);
}

std::string model_label(const LlamaConfig& config, int64_t parameters, ModelFormat format) {
  return "llama " + size_label(config, parameters) + " " + std::string(label(format));
}

}  // namespace mlspeed::llama
