#include "mlspeed/workloads/sd15_unet.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <sstream>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace sd15 {
namespace {

constexpr const char* kName = "sd15-unet-infer";

// Runs each kind of op the UNet uses, at a toy size, in `dtype` on `device`, and turns the
// first failure into a NotImplementedError (status "unsupported") that says what is missing:
// Debian's LibTorch 1.13, for one, has no float16 convolution or GroupNorm on the CPU. Done
// before building the model, so an unsupported configuration costs nothing.
void check_ops_run(const c10::Device& device, at::ScalarType dtype) {
  if (dtype == at::kFloat) return;
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  const char* op = "";
  try {
    c10::InferenceMode inference;
    const at::Tensor x = at::ones({2, 8, 4, 4}, options).contiguous(at::MemoryFormat::ChannelsLast);
    op = "conv2d";
    at::Tensor h = at::conv2d(x, at::ones({8, 8, 3, 3}, options).contiguous(at::MemoryFormat::ChannelsLast),
                              at::ones({8}, options), 1, 1);
    op = "group_norm";
    h = at::group_norm(h, 4, at::ones({8}, options), at::zeros({8}, options), 1e-5);
    op = "silu";
    h = at::silu(h);
    op = "upsample_nearest2d";
    h = at::upsample_nearest2d(h, {8, 8});
    op = "layer_norm";
    const at::Tensor tokens = at::layer_norm(h.reshape({2, 64, 8}), {8});
    op = "linear";
    const at::Tensor q = at::linear(tokens, at::ones({8, 8}, options)).view({2, 64, 2, 4}).transpose(1, 2);
    op = "scaled_dot_product_attention";
    const at::Tensor a = compat::sdpa(q, q, q, false, 0.0);
    op = "gelu";
    (void)at::gelu(a);
  } catch (const c10::Error& e) {
    std::ostringstream message;
    message << "[" << kName << "] " << dtype << " inference on " << device << " is not implemented by this LibTorch ("
            << op << ": " << e.what_without_backtrace() << ")";
    std::string text = message.str();
    text = text.substr(0, text.find('\n'));
    TORCH_CHECK_NOT_IMPLEMENTED(false, text);
  }
}

// What the runner and the step need of a size, checked.
const UNetSize& checked(const UNetSize& size) {
  const int64_t factor = int64_t(1) << (size.config.block_out_channels.size() - 1);
  TORCH_CHECK(size.latent_size % factor == 0, "[", kName, "] latent side ", size.latent_size,
              " is not a multiple of ", factor);
  return size;
}

}  // namespace

UNetSize unet_size(const std::string& size) {
  UNetSize s;
  if (size == "full") return s;  // SD 1.5: 512 x 512 images, 64 x 64 latents
  if (size == "small") {
    // The same structure at half the width (a quarter of the parameters: 220M) and 256 x 256
    // images: about 1/16 of full's work, seconds per step on a laptop CPU.
    s.config.block_out_channels = {160, 320, 640, 640};
    s.latent_size = 32;
    return s;
  }
  if (size == "tiny") {
    // Two levels (one attending, one not, as SD's deepest), one resnet per block, 2 heads,
    // a 32-wide context, 8 x 8 latents: milliseconds on a CPU.
    s.config.block_out_channels = {16, 32};
    s.config.cross_attention = {true, false};
    s.config.layers_per_block = 1;
    s.config.attention_heads = 2;
    s.config.cross_attention_dim = 32;
    s.config.norm_num_groups = 8;
    s.latent_size = 8;
    return s;
  }
  throw_unknown_size(kName, size);
}

double alpha_cumprod(int64_t timestep) {
  TORCH_CHECK(timestep >= 0 && timestep < 1000, "[", kName, "] timestep ", timestep, " is outside 0..999");
  const double first = std::sqrt(0.00085), last = std::sqrt(0.012);
  double product = 1.0;
  for (int64_t i = 0; i <= timestep; ++i) {
    const double root = first + (last - first) * double(i) / 999.0;
    product *= 1.0 - root * root;
  }
  return product;
}

InferenceSession::InferenceSession(const UNetSize& size, const c10::Device& device, Precision precision,
                                   uint64_t seed)
    : device_(device), dtype_(model_dtype(precision)), seed_(seed), latent_size_(checked(size).latent_size) {
  check_ops_run(device, dtype_);
  model_ = build_on_cpu<unet::UNet2DConditionModel>(size.config, seed);
  model_->eval();
  move_for_inference(*model_, device, precision);
  unet::to_channels_last(*model_);
}

void InferenceSession::prepare(const Shape& shape) {
  TORCH_CHECK(shape.batch >= 1, "[", kName, "] needs batch >= 1, got ", shape.batch);
  const unet::UNetConfig& config = model_->config();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  const int64_t s = latent_size_;
  latents_ = at::randn({shape.batch, config.in_channels, s, s}, generator)
                 .to(device_, dtype_)
                 .contiguous(at::MemoryFormat::ChannelsLast);
  context_ = at::randn({2 * shape.batch, kContextTokens, config.cross_attention_dim}, generator).to(device_, dtype_);
  timestep_ = at::full({1}, kTimestep, at::kLong).to(device_);
  guided_ = at::Tensor();
  next_latents_ = at::Tensor();
}

at::Tensor InferenceSession::guided_noise() {
  const at::Tensor noise = model_->forward(at::cat({latents_, latents_}), timestep_, context_);
  const auto halves = noise.chunk(2);  // [unconditional, conditional], the context's order
  return at::add(halves[0], halves[1] - halves[0], kGuidanceScale);
}

at::Tensor InferenceSession::forward() {
  TORCH_CHECK(latents_.defined(), "[", kName, "] forward() before prepare()");
  return guided_noise();
}

void InferenceSession::step() {
  TORCH_CHECK(latents_.defined(), "[", kName, "] step() before prepare()");
  // DDIM (eta 0) from kTimestep to kPrevTimestep, with x0 = (x - sqrt(1 - a) eps) / sqrt(a):
  //   x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps = c_x x + c_eps eps
  static const double a = alpha_cumprod(kTimestep), a_prev = alpha_cumprod(kPrevTimestep);
  static const double c_x = std::sqrt(a_prev / a);
  static const double c_eps = std::sqrt(1.0 - a_prev) - std::sqrt(a_prev * (1.0 - a) / a);

  c10::InferenceMode inference;
  guided_ = guided_noise();
  next_latents_ = at::add(latents_ * c_x, guided_, c_eps);
}

}  // namespace sd15

namespace {

using sd15::UNetSize;

std::string size_description(const UNetSize& s) {
  const unet::UNetConfig& c = s.config;
  std::string channels;
  for (int64_t ch : c.block_out_channels) channels += (channels.empty() ? "" : "/") + std::to_string(ch);
  return "channels " + channels + ", " + std::to_string(c.layers_per_block) + " layers per block, " +
         std::to_string(c.attention_heads) + " heads, context " + std::to_string(sd15::kContextTokens) + "x" +
         std::to_string(c.cross_attention_dim) + ", latents 4x" + std::to_string(s.latent_size) + "x" +
         std::to_string(s.latent_size);
}

ModelFacts sd15_unet_facts(const std::string& size) {
  const UNetSize u = sd15::unet_size(size);
  return {size_description(u), unet::count_params(u.config)};  // every parameter, as diffusers' num_parameters()
}

class Sd15UnetInfer : public WorkloadBase {
 public:
  // Batch: images per prompt batch; the UNet sees 2x.
  Sd15UnetInfer()
      : WorkloadBase({sd15::kName,
                      "Stable Diffusion 1.5 UNet: one denoising step with classifier-free guidance (UNet batch 2 per "
                      "image), x50 per image (the \"Macbook Pro GPU for ML?\" benchmark)",
                      Job::infer, "steps", "", sd15::kStepsPerImage},
                     {{"tiny", {1}}, {"small", {1}}, {"full", {1}}}, sd15_unet_facts) {}

  double items_per_step(const Shape&) const override { return 1.0; }

  // The UNet forward on the doubled batch: 2 batch x forward_flops_per_sample (unet2d.cpp);
  // the guidance and scheduler arithmetic is elementwise and not counted.
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    const UNetSize u = sd15::unet_size(size);
    return 2.0 * double(shape.batch) *
           unet::forward_flops_per_sample(u.config, u.latent_size, u.latent_size, sd15::kContextTokens);
  }

  // A lower bound: the weights in the inference dtype; per step, the skip connections the
  // down path leaves for the up path (all alive at the middle block), and the latents, context
  // and noise prediction. The activations of the block being computed come on top.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const UNetSize u = sd15::unet_size(size);
    const unet::UNetConfig& c = u.config;
    const int64_t unet_batch = 2 * shape.batch, n = int64_t(c.block_out_channels.size());
    int64_t skips = c.block_out_channels[0] * u.latent_size * u.latent_size;  // conv_in's output
    for (int64_t i = 0; i < n; ++i) {
      const int64_t side = u.latent_size >> i, ch = c.block_out_channels[i];
      skips += c.layers_per_block * ch * side * side;
      if (i < n - 1) skips += ch * (side / 2) * (side / 2);
    }
    const int64_t latents = c.in_channels * u.latent_size * u.latent_size;
    const int64_t io = unet_batch * (2 * latents + sd15::kContextTokens * c.cross_attention_dim) + 3 * shape.batch * latents;
    MemoryEstimate m;
    m.model = unet::count_params(c) * bytes_per_element(precision);
    m.per_step = (unet_batch * skips + io) * bytes_per_element(precision);
    return m;
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    auto session = std::make_unique<sd15::InferenceSession>(sd15::unet_size(size), device, precision, options.seed);
    // diffusers' unet/diffusion_pytorch_model.safetensors: the module names are its names.
    if (!options.weights.empty()) load_weights(session->model(), options.weights);
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_sd15_unet_infer() { return std::make_unique<Sd15UnetInfer>(); }

}  // namespace mlspeed
