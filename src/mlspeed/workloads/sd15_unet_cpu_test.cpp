#include "mlspeed/workloads/sd15_unet.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& sd15_unet() { return testing::catalogue_workload("sd15-unet-infer"); }

sd15::InferenceSession& as_unet_session(Session& session) { return dynamic_cast<sd15::InferenceSession&>(session); }

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The level (0 = full latent resolution) a module of the built model works at, from its name.
int64_t level_of(const std::string& name, int64_t levels) {
  const auto index_after = [&](const std::string& prefix) { return std::stoll(name.substr(prefix.size())); };
  if (starts_with(name, "down_blocks.")) {
    const int64_t i = index_after("down_blocks.");
    return name.find(".downsamplers.") != std::string::npos ? i + 1 : i;  // its output's resolution
  }
  if (starts_with(name, "up_blocks.")) {
    const int64_t i = levels - 1 - index_after("up_blocks.");
    return name.find(".upsamplers.") != std::string::npos ? i - 1 : i;
  }
  if (starts_with(name, "mid_block.")) return levels - 1;
  return 0;  // conv_in, conv_out
}

// FLOPs of one forward on one sample, counted from the built modules' weight shapes, with no
// use of the analytic formula: every Conv2d (2 x weight elements x output pixels), every Linear
// (2 x weight elements x the tokens it sees) and every Attention's two matrix products.
double flops_from_modules(const unet::UNet2DConditionModelImpl& model, int64_t side, int64_t context_len) {
  const int64_t levels = int64_t(model.config().block_out_channels.size());
  double total = 0;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    const std::string& name = item.key();
    const int64_t level = level_of(name, levels);
    const double pixels = double(side >> level) * double(side >> level);
    if (auto* conv = item.value()->as<torch::nn::Conv2dImpl>()) {
      total += 2.0 * double(conv->weight.numel()) * pixels;
    } else if (auto* lin = item.value()->as<torch::nn::LinearImpl>()) {
      double tokens = pixels;
      if (starts_with(name, "time_embedding.") || ends_with(name, ".time_emb_proj")) tokens = 1;
      if (ends_with(name, ".attn2.to_k") || ends_with(name, ".attn2.to_v")) tokens = double(context_len);
      total += 2.0 * double(lin->weight.numel()) * tokens;
    } else if (auto* attn = item.value()->as<unet::AttentionImpl>()) {
      const double keys = ends_with(name, ".attn2") ? double(context_len) : pixels;
      total += 2.0 * 2.0 * pixels * keys * double(attn->to_q->weight.size(0));
    }
  }
  return total;
}

TEST(Sd15UnetInfer, DescribesItself) {
  const Workload& w = sd15_unet();
  EXPECT_EQ(w.job(), Job::infer);
  EXPECT_EQ(w.item_unit(), "steps");
  EXPECT_EQ(w.steps_per_job(), 50);
  EXPECT_EQ(w.items_per_step(Shape{1}), 1.0);
  EXPECT_EQ(w.items_per_step(Shape{4}), 1.0);  // a step is a step, whatever the images in it
  ASSERT_EQ(w.sizes().size(), 3u);
  EXPECT_EQ(w.sizes()[0].name, "tiny");
  EXPECT_EQ(w.sizes()[1].name, "small");
  EXPECT_EQ(w.sizes()[2].name, "full");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 859'520'964);
  EXPECT_EQ(full->batches, (std::vector<int64_t>{1}));
  EXPECT_TRUE(full->seqs.empty());
  EXPECT_EQ(full->summary,
            "channels 320/640/1280/1280, 2 layers per block, 8 heads, context 77x768, latents 4x64x64");
  EXPECT_EQ(w.shapes(*full, {}).size(), 1u);
  EXPECT_EQ(find_size(w, "tiny")->parameters, 203'204);
}

TEST(Sd15UnetInfer, TinyAndSmallCountTheirBuiltModels) {
  for (const char* size : {"tiny", "small"}) {
    auto session = sd15_unet().open(size, c10::Device(c10::kCPU), Precision::fp32, {1});
    auto& unet = as_unet_session(*session).unet_model();
    EXPECT_EQ(unet::num_params(*unet), find_size(sd15_unet(), size)->parameters) << size;
    EXPECT_FALSE(unet->is_training());
    EXPECT_TRUE(unet->conv_in->weight.is_contiguous(at::MemoryFormat::ChannelsLast)) << size;
    const sd15::UNetSize u = sd15::unet_size(size);
    const double per_sample = flops_from_modules(*unet, u.latent_size, sd15::kContextTokens);
    EXPECT_DOUBLE_EQ(unet::forward_flops_per_sample(u.config, u.latent_size, u.latent_size, 77), per_sample)
        << size;
    EXPECT_DOUBLE_EQ(sd15_unet().flops_per_item(size, Shape{3}), 6.0 * per_sample) << size;
  }
}

TEST(Sd15UnetInfer, FlopsPerStepOfFullSize) {
  // One sample, 64 x 64 latents, 77 context tokens, summed over SD 1.5's modules (convolutions
  // 2 Cin Cout k^2 pixels; linears 2 in out tokens; attention 4 Nq Nk C):
  // 803,273,441,280 FLOPs (401.6 G multiply-adds). A step runs the UNet on 2 samples per image.
  const unet::UNetConfig sd15;
  EXPECT_DOUBLE_EQ(unet::forward_flops_per_sample(sd15, 64, 64, 77), 803'273'441'280.0);
  EXPECT_DOUBLE_EQ(sd15_unet().flops_per_item("full", Shape{1}), 1'606'546'882'560.0);
  EXPECT_DOUBLE_EQ(sd15_unet().flops_per_item("full", Shape{2}), 2.0 * 1'606'546'882'560.0);
  EXPECT_THROW(sd15_unet().flops_per_item("huge", Shape{1}), std::invalid_argument);
}

TEST(Sd15UnetInfer, TinyStepInFloat32AndBFloat16) {
  for (Precision precision : {Precision::fp32, Precision::tf32, Precision::bf16}) {
    auto session = sd15_unet().open("tiny", c10::Device(c10::kCPU), precision, {1});
    auto& inference = as_unet_session(*session);
    const at::ScalarType dtype = precision == Precision::bf16 ? at::kBFloat16 : at::kFloat;
    EXPECT_EQ(inference.unet_model()->conv_in->weight.scalar_type(), dtype);
    for (int64_t batch : {1, 2}) {
      session->prepare(Shape{batch});
      EXPECT_EQ(inference.latents().sizes(), (std::vector<int64_t>{batch, 4, 8, 8}));
      EXPECT_EQ(inference.context().sizes(), (std::vector<int64_t>{2 * batch, 77, 32}));
      session->step();
      const at::Tensor out = session->last_output();
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{batch, 4, 8, 8})) << name(precision);
      EXPECT_EQ(out.scalar_type(), dtype) << name(precision);
      EXPECT_TRUE(at::isfinite(out).all().item<bool>()) << name(precision);
      EXPECT_GT(out.abs().max().item<float>(), 0.0f) << "all-zero noise prediction";
      EXPECT_EQ(inference.next_latents().sizes(), out.sizes());
      EXPECT_TRUE(at::isfinite(inference.next_latents()).all().item<bool>());
    }
  }
}

TEST(Sd15UnetInfer, StepIsGuidedUNetOutputAndDdimUpdate) {
  auto session = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {5});
  auto& inference = as_unet_session(*session);
  session->prepare(Shape{2});
  session->step();
  c10::InferenceMode mode;
  const at::Tensor latents = inference.latents();
  const at::Tensor noise = inference.unet_model()->forward(at::cat({latents, latents}), at::full({1}, 981),
                                                           inference.context());
  const at::Tensor uncond = noise.narrow(0, 0, 2), cond = noise.narrow(0, 2, 2);
  const at::Tensor guided = uncond + 7.5 * (cond - uncond);
  EXPECT_LT((session->last_output() - guided).abs().max().item<float>(), 1e-5f);
  EXPECT_GT((cond - uncond).abs().max().item<float>(), 1e-4f) << "the two contexts must differ";

  const double a = sd15::alpha_cumprod(981), a_prev = sd15::alpha_cumprod(961);
  const at::Tensor x0 = (latents - std::sqrt(1 - a) * guided) / std::sqrt(a);
  const at::Tensor expected = std::sqrt(a_prev) * x0 + std::sqrt(1 - a_prev) * guided;
  EXPECT_LT((inference.next_latents() - expected).abs().max().item<float>(), 1e-4f);
}

TEST(Sd15UnetInfer, ScheduleIsSd15sScaledLinear) {
  // diffusers: betas = linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000) ** 2; alphas_cumprod = cumprod(1 - betas)
  EXPECT_NEAR(sd15::alpha_cumprod(0), 1 - 0.00085, 1e-12);
  EXPECT_NEAR(sd15::alpha_cumprod(999), 0.00466010, 1e-7);  // SD's final alpha_bar
  EXPECT_GT(sd15::alpha_cumprod(961), sd15::alpha_cumprod(981));
  EXPECT_THROW(sd15::alpha_cumprod(1000), c10::Error);
}

TEST(Sd15UnetInfer, SameSeedSameOutputsAndStepsRepeat) {
  std::vector<at::Tensor> outputs;
  for (uint64_t seed : {9, 9, 10}) {
    auto session = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {seed});
    session->prepare(Shape{1});
    session->step();
    const at::Tensor first = session->last_output();
    session->step();  // the next latents are not fed back: every step does the same work
    EXPECT_TRUE(first.equal(session->last_output()));
    outputs.push_back(first);
  }
  EXPECT_TRUE(outputs[0].equal(outputs[1]));
  EXPECT_FALSE(outputs[0].equal(outputs[2]));
}

TEST(Sd15UnetInfer, Float16OnTheCpuRunsOrIsRefusedClearly) {
  // Debian's LibTorch 1.13 has no float16 convolution on the CPU; newer ones do.
  try {
    auto session = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp16, {1});
    session->prepare(Shape{1});
    session->step();
    EXPECT_EQ(session->last_output().scalar_type(), at::kHalf);
  } catch (const c10::NotImplementedError& e) {
    const std::string message = e.what_without_backtrace();
    EXPECT_NE(message.find("[sd15-unet-infer] Half inference on cpu"), std::string::npos) << message;
  }
}

TEST(Sd15UnetInfer, WeightsRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.file("unet.safetensors");
  auto saved = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  save_weights(saved->model(), path);
  saved->prepare(Shape{1});
  saved->step();

  // Another seed's weights replaced by the file's: the same outputs on the same inputs.
  auto loaded = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {2, path});
  auto fresh = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {2});
  for (Session* s : {loaded.get(), fresh.get()}) {
    as_unet_session(*s).unet_model()->eval();
    s->prepare(Shape{1});
  }
  // The inputs come from each session's seed; run both models on the first session's inputs.
  c10::InferenceMode mode;
  const auto& in = as_unet_session(*saved);
  const auto run = [&](Session& s) {
    return as_unet_session(s).unet_model()->forward(in.latents(), at::full({1}, 981), in.context().narrow(0, 0, 1));
  };
  EXPECT_TRUE(run(*saved).equal(run(*loaded)));
  EXPECT_FALSE(run(*saved).equal(run(*fresh)));
  EXPECT_TRUE(as_unet_session(*loaded).unet_model()->conv_in->weight.is_contiguous(at::MemoryFormat::ChannelsLast));
}

TEST(Sd15UnetInfer, WeightsOfAnotherModelAreRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.file("other.safetensors");
  unet::UNetConfig other = sd15::unet_size("tiny").config;
  other.layers_per_block = 2;  // one more resnet and attention per block than tiny
  save_weights(*unet::UNet2DConditionModel(other), path);
  try {
    sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1, path});
    FAIL() << "loaded a checkpoint of another configuration";
  } catch (const InputFileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("down_blocks.0.attentions.1.norm.weight"), std::string::npos) << message;  // unexpected
    EXPECT_NE(message.find("up_blocks.0.resnets.1.conv1.weight: [32, 64, 3, 3] in the file"), std::string::npos)
        << message;  // wrong shape: the skip has more channels
  }
}

TEST(Sd15UnetInfer, MemoryEstimateIsALowerBound) {
  const auto fp16 = sd15_unet().memory_estimate("full", Shape{1}, Precision::fp16);
  const auto fp32 = sd15_unet().memory_estimate("full", Shape{1}, Precision::fp32);
  const auto fp16_b4 = sd15_unet().memory_estimate("full", Shape{4}, Precision::fp16);
  ASSERT_TRUE(fp16 && fp32 && fp16_b4);
  EXPECT_EQ(fp16->model, int64_t{859'520'964} * 2);
  EXPECT_EQ(fp32->model, int64_t{859'520'964} * 4);
  EXPECT_EQ(fp32->per_step, 2 * fp16->per_step);
  EXPECT_GT(fp16_b4->per_step, 3 * fp16->per_step);
  // The skip connections alone, UNet batch 2 in fp16: 3 x 320 x 64^2 + 320 x 32^2 + ... > 20 MB;
  // and far below what the step really takes (a few GB at most).
  EXPECT_GT(fp16->per_step, 20'000'000);
  EXPECT_LT(fp16->total(), 4'000'000'000);
}

TEST(Sd15UnetInfer, RefusesBadShapesAndSizes) {
  auto session = sd15_unet().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  EXPECT_THROW(session->step(), c10::Error);  // before prepare
  EXPECT_THROW(session->prepare(Shape{0}), c10::Error);
  EXPECT_THROW(sd15_unet().open("huge", c10::Device(c10::kCPU), Precision::fp32, {1}), std::invalid_argument);
}

}  // namespace
}  // namespace mlspeed
