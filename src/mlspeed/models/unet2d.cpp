#include "mlspeed/models/unet2d.h"

#include <torch/nn/modules/dropout.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/options/normalization.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/fused/group_norm.h"

namespace mlspeed::unet {
namespace {

torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

mlspeed::nn::Linear linear(int64_t in, int64_t out, bool bias = true) {
  return mlspeed::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::GroupNorm group_norm(int64_t groups, int64_t channels, double eps) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps));
}

// The GroupNorm `norm` of x + add (B, C) at every position (add undefined: x), then SiLU if silu:
// mlspeed's fused kernels on a channels-last CUDA tensor (fused/group_norm.h), LibTorch's ops
// elsewhere.
at::Tensor normed(const torch::nn::GroupNormImpl& norm, const at::Tensor& x, const at::Tensor& add, bool silu) {
  return fused::group_norm(x, add, norm.options.num_groups(), norm.weight, norm.bias, norm.options.eps(), silu);
}

torch::nn::LayerNorm layer_norm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
}

// The number of levels and their checks, shared by the builder and the counters.
int64_t levels(const UNetConfig& c) {
  const int64_t n = static_cast<int64_t>(c.block_out_channels.size());
  TORCH_CHECK(n >= 1 && static_cast<int64_t>(c.cross_attention.size()) == n, "[UNet] ", n,
              " block_out_channels but ", c.cross_attention.size(), " cross_attention flags");
  for (int64_t ch : c.block_out_channels)
    TORCH_CHECK(ch % c.norm_num_groups == 0 && ch % c.attention_heads == 0, "[UNet] block channels ", ch,
                " must be a multiple of norm_num_groups ", c.norm_num_groups, " and attention_heads ",
                c.attention_heads);
  return n;
}

}  // namespace

at::Tensor timestep_embedding(const at::Tensor& timesteps, int64_t dim, bool flip_sin_to_cos, double freq_shift) {
  TORCH_CHECK(timesteps.dim() == 1, "[UNet] timesteps must be 1-d, got ", timesteps.sizes());
  const int64_t half = dim / 2;
  const at::Tensor exponent =
      at::arange(half, timesteps.options().dtype(at::kFloat)) * (-std::log(10000.0)) / (double(half) - freq_shift);
  const at::Tensor args = timesteps.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);
  at::Tensor emb = flip_sin_to_cos ? at::cat({at::cos(args), at::sin(args)}, -1)
                                   : at::cat({at::sin(args), at::cos(args)}, -1);
  if (dim % 2 == 1) emb = at::constant_pad_nd(emb, {0, 1});
  return emb;
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim)
    : linear_1(register_module("linear_1", linear(in_channels, time_embed_dim))),
      linear_2(register_module("linear_2", linear(time_embed_dim, time_embed_dim))) {}

at::Tensor TimestepEmbeddingImpl::forward(const at::Tensor& x) { return linear_2(at::silu(linear_1(x))); }

ResnetBlock2DImpl::ResnetBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t temb_channels,
                                     int64_t groups, double eps)
    : norm1(register_module("norm1", group_norm(groups, in_channels, eps))),
      conv1(register_module("conv1", conv2d(in_channels, out_channels, 3))),
      time_emb_proj(register_module("time_emb_proj", linear(temb_channels, out_channels))),
      norm2(register_module("norm2", group_norm(groups, out_channels, eps))),
      conv2(register_module("conv2", conv2d(out_channels, out_channels, 3))) {
  if (in_channels != out_channels) conv_shortcut = register_module("conv_shortcut", conv2d(in_channels, out_channels, 1));
}

at::Tensor ResnetBlock2DImpl::forward(const at::Tensor& x, const at::Tensor& temb_act) {
  const at::Tensor h = conv1(normed(*norm1, x, {}, /*silu=*/true));
  const at::Tensor out = conv2(normed(*norm2, h, time_emb_proj(temb_act), /*silu=*/true));  // dropout 0
  return (conv_shortcut ? conv_shortcut(x) : x) + out;  // output_scale_factor 1
}

AttentionImpl::AttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads)
    : to_q(register_module("to_q", linear(query_dim, query_dim, false))),
      to_k(register_module("to_k", linear(context_dim > 0 ? context_dim : query_dim, query_dim, false))),
      to_v(register_module("to_v", linear(context_dim > 0 ? context_dim : query_dim, query_dim, false))),
      to_out(register_module("to_out", torch::nn::ModuleList())),
      heads_(heads),
      out_proj_(linear(query_dim, query_dim)) {
  TORCH_CHECK(query_dim % heads == 0, "[UNet] attention width ", query_dim, " is not a multiple of ", heads,
              " heads");
  to_out->push_back(out_proj_);
  to_out->push_back(torch::nn::Dropout(0.0));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const at::Tensor& kv = context.defined() ? context : x;
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  // (B, L, C) -> (B, heads, L, C / heads)
  const auto split = [&](const at::Tensor& t) { return t.view({B, -1, heads_, C / heads_}).transpose(1, 2); };
  const at::Tensor out =
      compat::sdpa(split(to_q(x)), split(to_k(kv)), split(to_v(kv)), /*is_causal=*/false, /*dropout_p=*/0.0);
  return out_proj_(out.transpose(1, 2).reshape({B, N, C}));
}

FeedForwardImpl::FeedForwardImpl(int64_t dim)
    : net(register_module("net", torch::nn::ModuleList())),
      proj_(linear(dim, 2 * 4 * dim)),
      out_(linear(4 * dim, dim)) {
  // net.0 is diffusers' GEGLU, whose only parameter is its Linear "proj".
  auto geglu = std::make_shared<torch::nn::Module>("GEGLU");
  geglu->register_module("proj", proj_);
  net->push_back(geglu);
  net->push_back(torch::nn::Dropout(0.0));
  net->push_back(out_);
}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) {
  const auto parts = proj_(x).chunk(2, -1);  // [hidden, gate]
  return out_(parts[0] * at::gelu(parts[1]));  // exact (erf) GELU, as diffusers' GEGLU
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t context_dim)
    : norm1(register_module("norm1", layer_norm(dim))),
      attn1(register_module("attn1", Attention(dim, 0, heads))),
      norm2(register_module("norm2", layer_norm(dim))),
      attn2(register_module("attn2", Attention(dim, context_dim, heads))),
      norm3(register_module("norm3", layer_norm(dim))),
      ff(register_module("ff", FeedForward(dim))) {}

at::Tensor BasicTransformerBlockImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  at::Tensor h = attn1(norm1(x)) + x;
  h = attn2(norm2(h), context) + h;
  return ff(norm3(h)) + h;
}

Transformer2DModelImpl::Transformer2DModelImpl(int64_t channels, int64_t heads, int64_t context_dim, int64_t groups)
    : norm(register_module("norm", group_norm(groups, channels, 1e-6))),
      proj_in(register_module("proj_in", conv2d(channels, channels, 1))),
      transformer_blocks(register_module("transformer_blocks", torch::nn::ModuleList())),
      proj_out(register_module("proj_out", conv2d(channels, channels, 1))),
      block_(channels, heads, context_dim) {
  transformer_blocks->push_back(block_);
}

at::Tensor Transformer2DModelImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  // (B, C, H, W) -> (B, H*W, C): a view when x is channels-last.
  at::Tensor h = proj_in(normed(*norm, x, {}, /*silu=*/false)).permute({0, 2, 3, 1}).reshape({B, H * W, C});
  h = block_(h, context);
  h = h.reshape({B, H, W, C}).permute({0, 3, 1, 2});  // channels-last strides, no copy
  return proj_out(h) + x;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels)
    : conv(register_module("conv", conv2d(channels, channels, 3, /*stride=*/2))) {}

at::Tensor Downsample2DImpl::forward(const at::Tensor& x) { return conv(x); }

Upsample2DImpl::Upsample2DImpl(int64_t channels) : conv(register_module("conv", conv2d(channels, channels, 3))) {}

at::Tensor Upsample2DImpl::forward(const at::Tensor& x) {
  return conv(at::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)}));
}

namespace {

ResnetBlock2D resnet(const UNetConfig& c, int64_t in, int64_t out) {
  return ResnetBlock2D(in, out, c.time_embed_dim(), c.norm_num_groups, c.norm_eps);
}

Transformer2DModel transformer(const UNetConfig& c, int64_t channels) {
  return Transformer2DModel(channels, c.attention_heads, c.cross_attention_dim, c.norm_num_groups);
}

// Runs resnet i, then attention i when the block has them.
at::Tensor resnet_then_attention(torch::nn::ModuleList& resnets, torch::nn::ModuleList& attentions,
                                 size_t i, const at::Tensor& x, const at::Tensor& temb_act,
                                 const at::Tensor& context) {
  at::Tensor h = resnets[i]->as<ResnetBlock2DImpl>()->forward(x, temb_act);
  if (attentions) h = attentions[i]->as<Transformer2DModelImpl>()->forward(h, context);
  return h;
}

}  // namespace

DownBlockImpl::DownBlockImpl(const UNetConfig& config, int64_t in_channels, int64_t out_channels,
                             bool cross_attention, bool add_downsample)
    : resnets(register_module("resnets", torch::nn::ModuleList())) {
  if (cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.layers_per_block; ++i) {
    resnets->push_back(resnet(config, i == 0 ? in_channels : out_channels, out_channels));
    if (cross_attention) attentions->push_back(transformer(config, out_channels));
  }
  if (add_downsample) downsamplers = register_module("downsamplers", torch::nn::ModuleList(Downsample2D(out_channels)));
}

at::Tensor DownBlockImpl::forward(at::Tensor x, const at::Tensor& temb_act, const at::Tensor& context,
                                  std::vector<at::Tensor>& skips) {
  for (size_t i = 0; i < resnets->size(); ++i) {
    x = resnet_then_attention(resnets, attentions, i, x, temb_act, context);
    skips.push_back(x);
  }
  if (downsamplers) {
    x = downsamplers[0]->as<Downsample2DImpl>()->forward(x);
    skips.push_back(x);
  }
  return x;
}

UpBlockImpl::UpBlockImpl(const UNetConfig& config, int64_t in_channels, int64_t prev_output_channels,
                         int64_t out_channels, bool cross_attention, bool add_upsample)
    : resnets(register_module("resnets", torch::nn::ModuleList())) {
  if (cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  const int64_t layers = config.layers_per_block + 1;
  for (int64_t i = 0; i < layers; ++i) {
    const int64_t skip_channels = i == layers - 1 ? in_channels : out_channels;
    const int64_t resnet_in = i == 0 ? prev_output_channels : out_channels;
    resnets->push_back(resnet(config, resnet_in + skip_channels, out_channels));
    if (cross_attention) attentions->push_back(transformer(config, out_channels));
  }
  if (add_upsample) upsamplers = register_module("upsamplers", torch::nn::ModuleList(Upsample2D(out_channels)));
}

at::Tensor UpBlockImpl::forward(at::Tensor x, std::vector<at::Tensor>& skips, const at::Tensor& temb_act,
                                const at::Tensor& context) {
  for (size_t i = 0; i < resnets->size(); ++i) {
    TORCH_CHECK(!skips.empty(), "[UNet] up block ran out of skip connections");
    x = at::cat({x, skips.back()}, 1);
    skips.pop_back();
    x = resnet_then_attention(resnets, attentions, i, x, temb_act, context);
  }
  if (upsamplers) x = upsamplers[0]->as<Upsample2DImpl>()->forward(x);
  return x;
}

MidBlockImpl::MidBlockImpl(const UNetConfig& config, int64_t channels)
    : resnets(register_module("resnets", torch::nn::ModuleList())),
      attentions(register_module("attentions", torch::nn::ModuleList())) {
  resnets->push_back(resnet(config, channels, channels));
  attentions->push_back(transformer(config, channels));
  resnets->push_back(resnet(config, channels, channels));
}

at::Tensor MidBlockImpl::forward(const at::Tensor& x, const at::Tensor& temb_act, const at::Tensor& context) {
  at::Tensor h = resnets[0]->as<ResnetBlock2DImpl>()->forward(x, temb_act);
  h = attentions[0]->as<Transformer2DModelImpl>()->forward(h, context);
  return resnets[1]->as<ResnetBlock2DImpl>()->forward(h, temb_act);
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNetConfig& config) : config_(config) {
  const int64_t n = levels(config);
  const auto& ch = config.block_out_channels;
  conv_in = register_module("conv_in", conv2d(config.in_channels, ch[0], 3));
  time_embedding = register_module("time_embedding", TimestepEmbedding(ch[0], config.time_embed_dim()));

  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out = ch[0];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t in = out;
    out = ch[i];
    downs_.emplace_back(config, in, out, config.cross_attention[i], /*add_downsample=*/i < n - 1);
    down_blocks->push_back(downs_.back());
  }

  mid_block = register_module("mid_block", MidBlock(config, ch[n - 1]));

  up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  out = ch[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t prev = out;
    out = ch[n - 1 - i];
    const int64_t in = ch[std::max<int64_t>(n - 2 - i, 0)];
    ups_.emplace_back(config, in, prev, out, config.cross_attention[n - 1 - i], /*add_upsample=*/i < n - 1);
    up_blocks->push_back(ups_.back());
  }

  conv_norm_out = register_module("conv_norm_out", group_norm(config.norm_num_groups, ch[0], config.norm_eps));
  conv_out = register_module("conv_out", conv2d(ch[0], config.out_channels, 3));
}

at::Tensor UNet2DConditionModelImpl::forward(const at::Tensor& sample, const at::Tensor& timesteps,
                                             const at::Tensor& context) {
  const int64_t n = static_cast<int64_t>(downs_.size()), B = sample.size(0);
  const int64_t factor = int64_t(1) << (n - 1);
  TORCH_CHECK(sample.dim() == 4 && sample.size(1) == config_.in_channels && sample.size(2) % factor == 0 &&
                  sample.size(3) % factor == 0,
              "[UNet] sample must be (B, ", config_.in_channels, ", H, W) with H and W multiples of ", factor,
              ", got ", sample.sizes());
  TORCH_CHECK(context.dim() == 3 && context.size(0) == B && context.size(2) == config_.cross_attention_dim,
              "[UNet] context must be (", B, ", tokens, ", config_.cross_attention_dim, "), got ", context.sizes());
  at::Tensor t = timesteps.reshape({-1});
  if (t.size(0) == 1) t = t.expand({B});
  TORCH_CHECK(t.size(0) == B, "[UNet] ", t.size(0), " timesteps for a batch of ", B);

  const at::Tensor t_emb =
      timestep_embedding(t, config_.block_out_channels[0], config_.flip_sin_to_cos, config_.freq_shift)
          .to(sample.scalar_type());
  const at::Tensor temb_act = at::silu(time_embedding(t_emb));

  at::Tensor x = conv_in(sample);
  std::vector<at::Tensor> skips{x};
  for (auto& down : downs_) x = down->forward(x, temb_act, context, skips);
  x = mid_block(x, temb_act, context);
  for (auto& up : ups_) x = up->forward(x, skips, temb_act, context);
  return conv_out(normed(*conv_norm_out, x, {}, /*silu=*/true));
}

int64_t num_params(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

namespace {

// Parameter counts of the building blocks (weights + biases).
int64_t conv_params(int64_t in, int64_t out, int64_t k) { return in * out * k * k + out; }
int64_t linear_params(int64_t in, int64_t out, bool bias = true) { return in * out + (bias ? out : 0); }
int64_t norm_params(int64_t channels) { return 2 * channels; }

int64_t resnet_params(const UNetConfig& c, int64_t in, int64_t out) {
  return norm_params(in) + conv_params(in, out, 3) + linear_params(c.time_embed_dim(), out) + norm_params(out) +
         conv_params(out, out, 3) + (in != out ? conv_params(in, out, 1) : 0);
}

int64_t attention_params(int64_t dim, int64_t context_dim) {
  return linear_params(dim, dim, false) + 2 * linear_params(context_dim, dim, false) + linear_params(dim, dim);
}

int64_t transformer_params(const UNetConfig& c, int64_t ch) {
  const int64_t block = 3 * norm_params(ch) + attention_params(ch, ch) + attention_params(ch, c.cross_attention_dim) +
                        linear_params(ch, 8 * ch) + linear_params(4 * ch, ch);
  return norm_params(ch) + 2 * conv_params(ch, ch, 1) + block;
}

}  // namespace

int64_t count_params(const UNetConfig& c) {
  const int64_t n = levels(c);
  const auto& ch = c.block_out_channels;
  int64_t total = conv_params(c.in_channels, ch[0], 3) + linear_params(ch[0], c.time_embed_dim()) +
                  linear_params(c.time_embed_dim(), c.time_embed_dim());
  int64_t out = ch[0];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t in = out;
    out = ch[i];
    for (int64_t l = 0; l < c.layers_per_block; ++l)
      total += resnet_params(c, l == 0 ? in : out, out) + (c.cross_attention[i] ? transformer_params(c, out) : 0);
    if (i < n - 1) total += conv_params(out, out, 3);
  }
  total += 2 * resnet_params(c, ch[n - 1], ch[n - 1]) + transformer_params(c, ch[n - 1]);
  out = ch[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t prev = out, in = ch[std::max<int64_t>(n - 2 - i, 0)];
    out = ch[n - 1 - i];
    const int64_t layers = c.layers_per_block + 1;
    for (int64_t l = 0; l < layers; ++l) {
      const int64_t skip = l == layers - 1 ? in : out;
      total += resnet_params(c, (l == 0 ? prev : out) + skip, out) +
               (c.cross_attention[n - 1 - i] ? transformer_params(c, out) : 0);
    }
    if (i < n - 1) total += conv_params(out, out, 3);
  }
  return total + norm_params(ch[0]) + conv_params(ch[0], c.out_channels, 3);
}

// FLOPs of one forward on one sample, 2 per multiply-add, over every matrix product:
//   a k x k convolution from Cin to Cout channels producing P output pixels: 2 Cin Cout k^2 P
//   a linear layer from I to O features over T tokens:                       2 I O T
//   attention with Nq queries, Nk keys and C channels (all heads together):
//     Q K^T and probabilities x V                                            2 * 2 Nq Nk C
// so, at a level of P = h w pixels and C channels:
//   resnet (Cin -> C):  2P (9 Cin C + 9 C^2 [+ Cin C shortcut]) + 2 T_emb C (time_emb_proj, 1 token)
//   transformer:        proj_in + proj_out 4 P C^2; self-attention q,k,v,out 8 P C^2 + 4 P^2 C;
//                       cross-attention q,out 4 P C^2, k,v 4 M D C (M context tokens of D), + 4 P M C;
//                       GEGLU feed-forward (C -> 8C, 4C -> C) 24 P C^2
//   downsampler: 18 C^2 P/4;  upsampler: 18 C^2 (4P);  conv_in / conv_out: 18 * 4 C0 P;
//   time embedding: 2 (C0 T_emb + T_emb^2).
// Not counted (small next to the products): GroupNorm, LayerNorm, SiLU, GELU, softmax, bias and
// residual additions, the concatenations, nearest upsampling, the sinusoidal embedding.
double forward_flops_per_sample(const UNetConfig& c, int64_t height, int64_t width, int64_t context_len) {
  const int64_t n = levels(c);
  const auto& ch = c.block_out_channels;
  const double temb = double(c.time_embed_dim()), M = double(context_len), D = double(c.cross_attention_dim);
  const auto pixels = [&](int64_t level) { return double(height >> level) * double(width >> level); };
  const auto conv = [](double in, double out, double k, double P) { return 2.0 * in * out * k * k * P; };
  const auto resnet = [&](double in, double out, double P) {
    return conv(in, out, 3, P) + conv(out, out, 3, P) + (in != out ? conv(in, out, 1, P) : 0.0) + 2.0 * temb * out;
  };
  const auto transformer = [&](double C, double P) {
    return 4.0 * P * C * C + (8.0 * P * C * C + 4.0 * P * P * C) + (4.0 * P * C * C + 4.0 * M * D * C + 4.0 * P * M * C) +
           24.0 * P * C * C;
  };

  double total = 2.0 * (double(ch[0]) * temb + temb * temb) + conv(double(c.in_channels), double(ch[0]), 3, pixels(0));
  int64_t out = ch[0];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t in = out;
    out = ch[i];
    for (int64_t l = 0; l < c.layers_per_block; ++l)
      total += resnet(double(l == 0 ? in : out), double(out), pixels(i)) +
               (c.cross_attention[i] ? transformer(double(out), pixels(i)) : 0.0);
    if (i < n - 1) total += conv(double(out), double(out), 3, pixels(i + 1));
  }
  const double C = double(ch[n - 1]);
  total += 2.0 * resnet(C, C, pixels(n - 1)) + transformer(C, pixels(n - 1));
  out = ch[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t prev = out, in = ch[std::max<int64_t>(n - 2 - i, 0)], level = n - 1 - i;
    out = ch[level];
    const int64_t layers = c.layers_per_block + 1;
    for (int64_t l = 0; l < layers; ++l) {
      const int64_t skip = l == layers - 1 ? in : out;
      total += resnet(double((l == 0 ? prev : out) + skip), double(out), pixels(level)) +
               (c.cross_attention[level] ? transformer(double(out), pixels(level)) : 0.0);
    }
    if (i < n - 1) total += conv(double(out), double(out), 3, pixels(level - 1));
  }
  return total + conv(double(ch[0]), double(c.out_channels), 3, pixels(0));
}

void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace mlspeed::unet
