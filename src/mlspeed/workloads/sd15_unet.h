// sd15-unet-infer ("Macbook Pro GPU for ML?"): one denoising step of Stable Diffusion 1.5 with classifier-free
// guidance, as diffusers' StableDiffusionPipeline runs it 50 times per image:
//
//   latent_model_input = cat([latents, latents])                 (2B, 4, h, w)
//   noise = unet(latent_model_input, t, context)                 context (2B, 77, 768): uncond + cond
//   guided = noise_uncond + 7.5 * (noise_cond - noise_uncond)
//   next latents = DDIM update (eta 0) of latents with `guided`
//
// Timed as that post times it: s/iteration of the denoising loop (items are steps, so items/s is
// diffusers' "it/s"), and the 50-step time (steps_per_job). The text encoder, the VAE decoder
// and the safety checker are outside the loop and not timed; the text context is random
// normal, the latents the pipeline's initial noise. The timestep is fixed at 981 (the first of
// the 50-step DDIM schedule of SD 1.5, steps_offset 1; its value does not change the work) and
// the next latents are not fed back, so every timed step does identical work on identical inputs.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mlspeed/core/precision.h"
#include "mlspeed/models/unet2d.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_sd15_unet_infer();

namespace sd15 {

inline constexpr double kGuidanceScale = 7.5;      // the pipeline's default
inline constexpr int64_t kStepsPerImage = 50;      // the post's num_inference_steps=50
inline constexpr int64_t kTimestep = 981;          // DDIM, 50 steps, steps_offset 1: 981, 961, ..., 1
inline constexpr int64_t kPrevTimestep = 961;
inline constexpr int64_t kContextTokens = 77;      // CLIP's max_length

// A size of the workload: the UNet and the latent side (image side / 8).
struct UNetSize {
  unet::UNetConfig config;
  int64_t latent_size = 64;
};

// "tiny", "small" or "full"; throws std::invalid_argument for any other name.
UNetSize unet_size(const std::string& size);

// alphas_cumprod[t] of SD 1.5's scheduler: betas "scaled_linear" from 0.00085 to 0.012 over 1000
// steps (linspace of the square roots, squared).
double alpha_cumprod(int64_t timestep);

class InferenceSession : public Session {
 public:
  // Seeds the global generator, builds the UNet on the CPU in float32 (the same weights for
  // every device), puts it in eval mode, moves and casts it (fp16/bf16: the weights themselves,
  // as the pipeline's torch_dtype does; fp32 and tf32 are float32) and makes its convolution
  // weights channels-last. Throws c10::NotImplementedError when this LibTorch cannot run the
  // UNet's ops in that dtype on that device.
  InferenceSession(const UNetSize& size, const c10::Device& device, Precision precision, uint64_t seed);

  // Draws on the CPU from the seed, in the model's dtype, then moves: latents (batch, 4, s, s)
  // and the text context (2 batch, 77, cross_attention_dim), both standard normal.
  void prepare(const Shape& shape) override;
  // One denoising step under c10::InferenceMode; no synchronisation.
  void step() override;

  unet::UNet2DConditionModel& unet_model() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  // The guided noise prediction (batch, 4, s, s).
  at::Tensor last_output() const override { return guided_; }
  // The guided noise of the prepared latents, as step() computes it, recording autograd.
  at::Tensor forward() override;
  const at::Tensor& next_latents() const { return next_latents_; }
  const at::Tensor& latents() const { return latents_; }
  const at::Tensor& context() const { return context_; }
  at::ScalarType dtype() const { return dtype_; }

 private:
  at::Tensor guided_noise();  // classifier-free guidance on the doubled batch
  c10::Device device_;
  at::ScalarType dtype_;
  uint64_t seed_;
  int64_t latent_size_;
  unet::UNet2DConditionModel model_{nullptr};
  at::Tensor latents_;
  at::Tensor context_;
  at::Tensor timestep_;
  at::Tensor guided_;
  at::Tensor next_latents_;
};

}  // namespace sd15
}  // namespace mlspeed
