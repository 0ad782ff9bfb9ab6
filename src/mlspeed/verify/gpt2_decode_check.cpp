#include "mlspeed/verify/gpt2_decode_check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <string>

#include "mlspeed/core/text.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/verify/model_detectors.h"

namespace mlspeed::verify {
namespace {

using gpt2::GPT2Model;

constexpr int64_t kDecodeBatch = 2, kDecodePrompt = 9;

gpt2::GPT2Config decode_check_config() {
  gpt2::GPT2Config c;
  c.vocab_size = 333;
  c.n_positions = 32;
  c.n_embd = 256;
  c.n_layer = 2;
  c.n_head = 4;
  return c;
}

// Every parameter drawn from the seed at the scales of the header, on the CPU in float32.
GPT2Model decode_check_model(uint64_t seed) {
  GPT2Model model(decode_check_config());
  at::NoGradGuard no_grad;
  auto random = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : model->named_parameters()) {
    at::Tensor& p = item.value();
    const std::string& name = item.key();
    const auto named = [&](const std::string& tail) {
      return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    const bool norm = name.find("ln_") != std::string::npos;
    if (norm && named(".weight"))
      p.copy_(at::rand(p.sizes(), random, at::kFloat) + 0.5);
    else if (named(".bias"))
      p.copy_(at::randn(p.sizes(), random, at::kFloat) * 0.25);
    else if (name == "wte.weight" || name == "wpe.weight")
      p.copy_(at::randn(p.sizes(), random, at::kFloat));
    else  // a Conv1D's weight, (in, out)
      p.copy_(at::randn(p.sizes(), random, at::kFloat) / std::sqrt(static_cast<double>(p.size(0))));
  }
  model->eval();
  return model;
}

// `model` on `device` in `dtype`, every parameter multiplied by (1 + unit * N(0, 1)) when unit > 0.
GPT2Model decode_check_copy(GPT2Model& model, const c10::Device& device, at::ScalarType dtype, double unit,
                            uint64_t seed) {
  GPT2Model copy(decode_check_config());
  at::NoGradGuard no_grad;
  auto random = at::make_generator<at::CPUGeneratorImpl>(seed + 2);
  const auto from = model->named_parameters();
  for (auto& item : copy->named_parameters()) {
    at::Tensor value = from[item.key()].clone();
    if (unit > 0) value.mul_(1 + unit * at::randn(value.sizes(), random, at::kFloat));
    item.value().copy_(value);
  }
  copy->to(device, dtype);
  copy->eval();
  return copy;
}

// The logits (batch, vocab) of the token after the prompt, through decode_step, in float64 on the CPU.
at::Tensor decode_check_logits(GPT2Model& model, const at::Tensor& prompt, const at::Tensor& next) {
  c10::InferenceMode inference;
  const c10::Device device = model->wte->weight.device();
  KVCache cache = model->make_cache(kDecodeBatch, kDecodePrompt + 1);
  model->forward_cached(prompt.to(device), cache);
  cache.set_position(cache.length());
  return model->decode_step(next.to(device), cache).to(models::kCpu, at::kDouble);
}

std::string decode_check_shape() {
  const gpt2::GPT2Config c = decode_check_config();
  return printf_string("GPT-2 %lld wide, %lld heads, %lld layers, vocab %lld, every bias and norm drawn; batch %lld, "
                       "prompt %lld (+1 decoded)",
                       static_cast<long long>(c.n_embd), static_cast<long long>(c.n_head),
                       static_cast<long long>(c.n_layer), static_cast<long long>(c.vocab_size),
                       static_cast<long long>(kDecodeBatch), static_cast<long long>(kDecodePrompt));
}

}  // namespace

void gpt2_decode_check(const models::Context& c, const std::function<void(CheckResult)>& emit) {
  CheckResult row = models::base_row(c, "decode", BugClass::model);
  row.shape = decode_check_shape();
  models::Stopwatch clock;
  models::guarded(row, [&] {
    GPT2Model stored = decode_check_model(c.open.seed);
    auto random = at::make_generator<at::CPUGeneratorImpl>(c.open.seed + 1);
    const int64_t vocab = decode_check_config().vocab_size;
    const at::Tensor prompt = at::randint(vocab, {kDecodeBatch, kDecodePrompt}, random, at::kLong);
    const at::Tensor next = at::randint(vocab, {kDecodeBatch, 1}, random, at::kLong);
    at::Tensor device;
    {
      DeviceScope scope(c.target);
      GPT2Model model = decode_check_copy(stored, c.target.device, model_dtype(c.precision), 0, c.open.seed);
      device = decode_check_logits(model, prompt, next);
      if (models::fell_back(row, scope)) return;
    }
    const at::Tensor reference = decode_check_logits(stored, prompt, next);
    Tolerance tolerance = model_tolerance(c.precision, ModelQuantity::output, reference);
    if (const double unit = rounding_unit(c.precision); unit > 0) {
      GPT2Model rounded = decode_check_copy(stored, models::kCpu, at::kFloat, unit, c.open.seed);
      const double change = max_abs_difference(decode_check_logits(rounded, prompt, next), reference);
      tolerance = widened_by_sensitivity(tolerance, change, c.precision);
    }
    record(row, compare(device, reference, tolerance));
    row.message = "decode step against the CPU's: " + row.message;
    if (const auto flag = output_flags(device, reference, "output"))
      models::set_failure(row, Outcome::fail, *flag + "; " + row.message);
  });
  row.seconds = clock.seconds();
  emit(row);
}

}  // namespace mlspeed::verify
