// Stable Diffusion's denoiser (Rombach et al. 2022) as diffusers' UNet2DConditionModel, the
// layout of runwayml/stable-diffusion-v1-5's unet/diffusion_pytorch_model.safetensors:
//
//   timestep t -> sinusoidal embedding (320, cos first) -> time_embedding: linear_1, SiLU, linear_2
//   latents (B,4,H,W) -> conv_in (320)                                              skips: [x]
//     -> down_blocks.0..3: layers_per_block x (resnet [+ cross-attention transformer]),  each
//        output pushed as a skip, then a stride-2 conv (not after the last block), pushed too
//     -> mid_block: resnet, transformer, resnet
//     -> up_blocks.0..3: (layers_per_block + 1) x (cat(x, skips.pop()) -> resnet
//        [-> transformer]), then nearest x2 + conv (not after the last block)
//     -> conv_norm_out (GroupNorm), SiLU, conv_out (4) -> predicted noise (B,4,H,W)
//   text context (B,77,768) enters every transformer through its cross-attention (attn2).
//
// Parameter names are exactly diffusers' (their module attributes), so the public checkpoint
// loads with no renaming:
//   conv_in.{weight,bias}, time_embedding.linear_{1,2}.{weight,bias},
//   down_blocks.D.resnets.N.{norm1,conv1,time_emb_proj,norm2,conv2[,conv_shortcut]}.{weight,bias}
//   down_blocks.D.attentions.N.{norm,proj_in,proj_out}.{weight,bias}
//   down_blocks.D.attentions.N.transformer_blocks.0.{norm1,norm2,norm3}.{weight,bias}
//   down_blocks.D.attentions.N.transformer_blocks.0.attn{1,2}.to_{q,k,v}.weight (no bias)
//   down_blocks.D.attentions.N.transformer_blocks.0.attn{1,2}.to_out.0.{weight,bias}
//   down_blocks.D.attentions.N.transformer_blocks.0.ff.net.0.proj.{weight,bias}   (GEGLU)
//   down_blocks.D.attentions.N.transformer_blocks.0.ff.net.2.{weight,bias}
//   down_blocks.D.downsamplers.0.conv.{weight,bias}
//   mid_block.resnets.{0,1}.*, mid_block.attentions.0.*
//   up_blocks.U.resnets.N.*, up_blocks.U.attentions.N.*, up_blocks.U.upsamplers.0.conv.*
//   conv_norm_out.{weight,bias}, conv_out.{weight,bias}
// (to_out.1 and ff.net.1 are dropouts, without parameters, kept so the indices match.)
//
// Which blocks attend follows the down_block_types of SD 1.5 (CrossAttnDownBlock2D x3,
// DownBlock2D) and the mirrored up_block_types (UpBlock2D, CrossAttnUpBlock2D x3).
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "mlspeed/models/linear.h"

namespace mlspeed::unet {

// Defaults are SD 1.5's unet/config.json.
struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  std::vector<int64_t> block_out_channels = {320, 640, 1280, 1280};
  // Down block i is a CrossAttnDownBlock2D when true, else a DownBlock2D; up block i attends
  // when down block (n - 1 - i) does (diffusers' reversed block types).
  std::vector<bool> cross_attention = {true, true, true, false};
  int64_t layers_per_block = 2;
  // diffusers' `attention_head_dim`, which SD 1.5 (through a historical misnomer) uses as the
  // NUMBER of heads: every attention has 8 heads of channels / 8.
  int64_t attention_heads = 8;
  int64_t cross_attention_dim = 768;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;          // the resnets' and conv_norm_out's GroupNorms
  bool flip_sin_to_cos = true;     // the timestep embedding is [cos, sin]
  double freq_shift = 0.0;         // diffusers' downscale_freq_shift

  int64_t time_embed_dim() const { return 4 * block_out_channels.front(); }
};

// diffusers' get_timestep_embedding (max_period 10000, scale 1): for the float timesteps t (N,)
// and half = dim / 2, freq_j = exp(-ln(10000) * j / (half - freq_shift)), j = 0..half-1, and the
// embedding is [sin(t freq), cos(t freq)], or [cos, sin] when flip_sin_to_cos. float32 (N, dim).
at::Tensor timestep_embedding(const at::Tensor& timesteps, int64_t dim, bool flip_sin_to_cos, double freq_shift);

class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);
  at::Tensor forward(const at::Tensor& x);  // linear_2(silu(linear_1(x)))

  mlspeed::nn::Linear linear_1{nullptr};
  mlspeed::nn::Linear linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

// ResnetBlock2D: x + conv2(SiLU(norm2(conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb)))))
// with a 1x1 conv_shortcut on x when the channel count changes.
class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  ResnetBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t temb_channels, int64_t groups, double eps);
  // `temb_act` is SiLU(time embedding) (B, temb_channels): every resnet applies the same SiLU
  // first, so the UNet computes it once.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb_act);

  torch::nn::GroupNorm norm1{nullptr};
  torch::nn::Conv2d conv1{nullptr};
  mlspeed::nn::Linear time_emb_proj{nullptr};
  torch::nn::GroupNorm norm2{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::Conv2d conv_shortcut{nullptr};  // null when in == out channels
};
TORCH_MODULE(ResnetBlock2D);

// diffusers' Attention: multi-head attention, q from x, k and v from the context (x itself for
// self-attention), through compat::sdpa (scale 1/sqrt(head_dim)).
class AttentionImpl : public torch::nn::Module {
 public:
  // context_dim 0: self-attention.
  AttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads);
  // x (B, N, query_dim); context (B, M, context_dim) or undefined for self-attention.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context = {});

  int64_t heads() const { return heads_; }

  mlspeed::nn::Linear to_q{nullptr};
  mlspeed::nn::Linear to_k{nullptr};
  mlspeed::nn::Linear to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [Linear (with bias), Dropout]

 private:
  int64_t heads_;
  mlspeed::nn::Linear out_proj_{nullptr};  // to_out[0], typed
};
TORCH_MODULE(Attention);

// FeedForward with GEGLU: net.2(h * gelu(gate)), where [h, gate] = net.0.proj(x) split in two.
class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(int64_t dim);  // inner width 4 * dim
  at::Tensor forward(const at::Tensor& x);

  torch::nn::ModuleList net{nullptr};  // [GEGLU (its Linear is "proj"), Dropout, Linear]

 private:
  mlspeed::nn::Linear proj_{nullptr};
  mlspeed::nn::Linear out_{nullptr};
};
TORCH_MODULE(FeedForward);

// BasicTransformerBlock, pre-norm: x += attn1(norm1(x)); x += attn2(norm2(x), context);
// x += ff(norm3(x)). LayerNorms eps 1e-5.
class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t context_dim);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn1{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Attention attn2{nullptr};
  torch::nn::LayerNorm norm3{nullptr};
  FeedForward ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

// Transformer2DModel with use_linear_projection=False (SD 1.x): GroupNorm (eps 1e-6), 1x1 conv
// proj_in, the (B, H*W, C) token sequence through one BasicTransformerBlock, 1x1 conv proj_out,
// plus the input.
class Transformer2DModelImpl : public torch::nn::Module {
 public:
  Transformer2DModelImpl(int64_t channels, int64_t heads, int64_t context_dim, int64_t groups);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  torch::nn::GroupNorm norm{nullptr};
  torch::nn::Conv2d proj_in{nullptr};
  torch::nn::ModuleList transformer_blocks{nullptr};
  torch::nn::Conv2d proj_out{nullptr};

 private:
  BasicTransformerBlock block_{nullptr};
};
TORCH_MODULE(Transformer2DModel);

// Downsample2D (use_conv): a 3x3 convolution with stride 2, padding 1.
class Downsample2DImpl : public torch::nn::Module {
 public:
  explicit Downsample2DImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Downsample2D);

// Upsample2D (use_conv): nearest-neighbour x2, then a 3x3 convolution.
class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

// CrossAttnDownBlock2D (cross_attention) or DownBlock2D.
class DownBlockImpl : public torch::nn::Module {
 public:
  DownBlockImpl(const UNetConfig& config, int64_t in_channels, int64_t out_channels, bool cross_attention,
                bool add_downsample);
  // Appends every resnet (or resnet + transformer) output and the downsampled output to `skips`.
  at::Tensor forward(at::Tensor x, const at::Tensor& temb_act, const at::Tensor& context,
                     std::vector<at::Tensor>& skips);

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList attentions{nullptr};    // null for a DownBlock2D
  torch::nn::ModuleList downsamplers{nullptr};  // null for the last block
};
TORCH_MODULE(DownBlock);

// CrossAttnUpBlock2D (cross_attention) or UpBlock2D: resnet i takes cat(x, skip) with
// prev_output_channels (i = 0) or out_channels, plus the skip's channels (in_channels for the
// last resnet, out_channels otherwise).
class UpBlockImpl : public torch::nn::Module {
 public:
  UpBlockImpl(const UNetConfig& config, int64_t in_channels, int64_t prev_output_channels, int64_t out_channels,
              bool cross_attention, bool add_upsample);
  // Pops one skip from the back of `skips` per resnet.
  at::Tensor forward(at::Tensor x, std::vector<at::Tensor>& skips, const at::Tensor& temb_act,
                     const at::Tensor& context);

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList attentions{nullptr};  // null for an UpBlock2D
  torch::nn::ModuleList upsamplers{nullptr};  // null for the last block
};
TORCH_MODULE(UpBlock);

// UNetMidBlock2DCrossAttn: resnets.0, attentions.0, resnets.1.
class MidBlockImpl : public torch::nn::Module {
 public:
  MidBlockImpl(const UNetConfig& config, int64_t channels);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb_act, const at::Tensor& context);

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList attentions{nullptr};
};
TORCH_MODULE(MidBlock);

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  // Builds the model with PyTorch's default initialisation (what diffusers leaves in place):
  // kaiming-uniform convolutions and linears, GroupNorm/LayerNorm weight 1 bias 0. Draws from
  // the global generator.
  explicit UNet2DConditionModelImpl(const UNetConfig& config);
  // sample (B, in_channels, H, W) with H and W multiples of 2^(blocks - 1); timesteps (B,) or
  // (1,) (broadcast), any number type; context (B, M, cross_attention_dim).
  // Returns (B, out_channels, H, W) in the sample's dtype.
  at::Tensor forward(const at::Tensor& sample, const at::Tensor& timesteps, const at::Tensor& context);

  const UNetConfig& config() const { return config_; }

  torch::nn::Conv2d conv_in{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};
  MidBlock mid_block{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};

 private:
  UNetConfig config_;
  std::vector<DownBlock> downs_;
  std::vector<UpBlock> ups_;
};
TORCH_MODULE(UNet2DConditionModel);

// Every parameter of a built model.
int64_t num_params(const torch::nn::Module& model);

// The same count from the configuration alone, without building the model: 859,520,964 for
// SD 1.5.
int64_t count_params(const UNetConfig& config);

// FLOPs of one UNet forward on ONE sample of height x width latents with a text context of
// `context_len` tokens (see unet2d.cpp for what is counted).
double forward_flops_per_sample(const UNetConfig& config, int64_t height, int64_t width, int64_t context_len);

// Converts every 4-d parameter (the convolution weights) to channels-last, in place, on its
// current device and dtype.
void to_channels_last(torch::nn::Module& model);

}  // namespace mlspeed::unet
