#include "mlspeed/verify/model_checks.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/device.h"
#include "mlspeed/text/gpt2_bpe.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/verify/gpt2_decode_check.h"
#include "mlspeed/verify/gradient_judge.h"
#include "mlspeed/verify/model_check_kit.h"
#include "mlspeed/verify/model_detectors.h"
#include "mlspeed/verify/quant_model_check.h"
#include "mlspeed/verify/step_checks.h"
#include "mlspeed/workloads/generation.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::verify {
namespace {

using namespace models;  // the kit every model check shares

constexpr const char* kTextWorkload = "gpt2-generate";
constexpr const char* kTextPrompt = "The rain in Spain";  // the M3 Max review's "!!!!" test
constexpr int64_t kTextNewTokens = 16;
constexpr int64_t kGenerationPrompt = 4;
constexpr int64_t kGenerationNewTokens = 16;

// A generating workload sweeps new tokens in its shapes.
bool generates(const Workload& w) {
  return std::any_of(w.sizes().begin(), w.sizes().end(), [](const WorkloadSize& s) { return !s.new_tokens.empty(); });
}
bool is_training(const Workload& w) { return w.job() == Job::train; }

// Llama's medium and full sizes initialise their weights on the device (too big to build on the
// host): the device's random stream is not the CPU's, so there is no same-weights reference.
bool device_initialised(const Workload& w, const std::string& size) {
  return w.name() == "llama2-7b-generate" && (size == "medium" || size == "full");
}

std::vector<const Workload*> selected_workloads(const ModelCheckOptions& options) {
  if (options.workloads.empty()) return workload_catalogue();
  std::vector<const Workload*> out;
  for (const std::string& name : options.workloads) out.push_back(find_workload(name));
  return out;
}

// The smallest of the size's default shapes; where some have a sequence (a prompt), one of those,
// so that forward() has a prompt to run on.
Shape small_shape(const Workload& w, const WorkloadSize& size) {
  std::vector<Shape> shapes = w.shapes(size, {});
  const bool any_seq = std::any_of(shapes.begin(), shapes.end(), [](const Shape& s) { return s.seq > 0; });
  if (any_seq) shapes.erase(std::remove_if(shapes.begin(), shapes.end(), [](const Shape& s) { return s.seq == 0; }),
                            shapes.end());
  const auto cost = [](const Shape& s) { return std::make_pair(s.batch * std::max<int64_t>(s.seq, 1), s.new_tokens); };
  return *std::min_element(shapes.begin(), shapes.end(),
                           [&](const Shape& a, const Shape& b) { return cost(a) < cost(b); });
}

// Every parameter of the device's model must start equal to the CPU's (rounded to the device's
// dtype for inference casts): both are built from the same seed on the CPU. Returns the first
// parameter that differs.
std::optional<std::string> different_weights(torch::nn::Module& device_model, torch::nn::Module& cpu_model) {
  const auto cpu = cpu_model.named_parameters();
  for (const auto& p : device_model.named_parameters()) {
    const at::Tensor* reference = cpu.find(p.key());
    if (!reference) return p.key() + " (absent on the CPU)";
    const at::Tensor mine = p.value().detach().to(kCpu).to(at::kFloat);
    const at::Tensor theirs = reference->detach().to(p.value().scalar_type()).to(at::kFloat);
    if (!mine.equal(theirs)) return p.key();
  }
  return std::nullopt;
}

// The fixed projection whose gradient is taken: sum(output * g), g ~ N(0, 1) from the seed.
at::Tensor projection(const at::Tensor& output, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  return at::randn(output.sizes(), generator, at::kFloat);
}

void backward_of_projection(torch::nn::Module& model, const at::Tensor& output, const at::Tensor& g) {
  (output.to(at::kFloat) * g.to(output.device())).sum().backward();
  (void)model;
}

void enable_gradients(torch::nn::Module& model) {
  for (at::Tensor& p : model.parameters()) {
    p.requires_grad_(true);
    p.mutable_grad() = at::Tensor();
  }
}

std::map<std::string, at::Tensor> projection_gradients(torch::nn::Module& model) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : model.named_parameters())
    if (p.value().grad().defined()) out.emplace(p.key(), p.value().grad().detach().to(kCpu).clone());
  return out;
}

// One forward pass and the gradients of the projection, on one device in one precision.
struct Pass {
  std::unique_ptr<Session> session;
  at::Tensor output;                          // on the CPU
  std::map<std::string, at::Tensor> gradients;  // on the CPU
};

// `perturbation` > 0: every weight multiplied by (1 + perturbation * N(0, 1)) first, drawn from
// the seed (`draw` picks another stream of it).
Pass forward_backward(const Context& c, const c10::Device& device, Precision precision, double perturbation = 0,
                      uint64_t draw = 0) {
  Pass pass;
  pass.session = open_prepared(c, device, precision);
  if (perturbation > 0) {
    at::NoGradGuard no_grad;
    auto random = at::make_generator<at::CPUGeneratorImpl>(c.open.seed + 2 + 1000 * draw);
    for (at::Tensor& p : pass.session->model().parameters())
      p.mul_(1 + perturbation * at::randn(p.sizes(), random, p.options().device(kCpu)).to(p.device()));
  }
  enable_gradients(pass.session->model());
  const at::Tensor out = pass.session->forward();
  pass.output = out.detach().to(kCpu);
  backward_of_projection(pass.session->model(), out, projection(pass.output, c.open.seed));
  pass.gradients = projection_gradients(pass.session->model());
  return pass;
}

// The model's own sensitivity to rounding in the tested precision: the same pass on the CPU in
// float32 with every weight perturbed by one unit of that precision's rounding
// (rounding_unit). Its difference from the unperturbed pass widens the whole-model tolerance
// (widened_by_sensitivity). nullopt for float32.
std::optional<Pass> perturbed_pass(const Context& c) {
  const double unit = rounding_unit(c.precision);
  if (unit <= 0) return std::nullopt;
  return forward_backward(c, kCpu, Precision::fp32, unit);
}

// The second look's draws (gradient_judge.h): the CPU's float32 pass with every weight perturbed
// by kKinkPerturbation, each drawn from a stream of its own.
std::vector<Gradients> kink_draws(const Context& c) {
  std::vector<Gradients> draws;
  for (uint64_t draw = 1; draw <= kKinkDraws; ++draw)
    draws.push_back(forward_backward(c, kCpu, Precision::fp32, kKinkPerturbation, draw).gradients);
  return draws;
}

// `fixed`, widened by the model's sensitivity where it was measured.
Tolerance widened(Tolerance fixed, const at::Tensor* perturbed_value, const at::Tensor& reference,
                  Precision precision) {
  if (!perturbed_value) return fixed;
  return widened_by_sensitivity(std::move(fixed), max_abs_difference(*perturbed_value, reference), precision);
}

// forward + gradients: one pair of sessions, one row each.
void forward_and_gradients(const Context& c, const std::function<void(CheckResult)>& emit) {
  CheckResult forward_row = base_row(c, "forward", BugClass::model);
  CheckResult gradient_row = base_row(c, "gradients", BugClass::training);
  Stopwatch clock;
  bool done = false;
  guarded(forward_row, [&] {
    Pass device;
    bool device_fell_back = false;
    {
      DeviceScope scope(c.target);
      device = forward_backward(c, c.target.device, c.precision);
      device_fell_back = fell_back(forward_row, scope);
      if (device_fell_back) fell_back(gradient_row, scope);
    }
    Pass cpu = forward_backward(c, kCpu, Precision::fp32);
    if (const auto name = different_weights(device.session->model(), cpu.session->model()))
      throw std::runtime_error("the device's initial weights differ from the CPU's (" + *name +
                               "): the check needs a workload whose weights are built on the CPU from the seed");
    const std::optional<Pass> perturbed = device_fell_back ? std::nullopt : perturbed_pass(c);
    done = true;
    if (device_fell_back) return;

    const at::Tensor reference = cpu.output.to(at::kDouble);
    record(forward_row,
           compare(device.output, reference,
                   widened(model_tolerance(c.precision, ModelQuantity::output, reference),
                           perturbed ? &perturbed->output : nullptr, reference, c.precision)));
    if (const auto flag = output_flags(device.output, reference, "output"))
      set_failure(forward_row, Outcome::fail, *flag + "; " + forward_row.message);

    // Gradients: every parameter; the row carries the worst one's figures.
    const GradientVerdict verdict = judge_gradients(
        device.gradients, cpu.gradients, c.precision, perturbed ? &perturbed->gradients : nullptr,
        [&] { return kink_draws(c); });
    if (verdict.worst) record(gradient_row, *verdict.worst);
    gradient_row.outcome = verdict.passed()                          ? Outcome::pass
                           : verdict.worst || !verdict.flag.empty() ? Outcome::fail
                                                                    : Outcome::error;
    gradient_row.message = verdict.message();
  });
  if (!done && gradient_row.outcome == Outcome::pass) {
    gradient_row.outcome = forward_row.outcome;
    gradient_row.message = forward_row.message;
  }
  forward_row.seconds = gradient_row.seconds = clock.seconds();
  emit(forward_row);
  emit(gradient_row);
}

// A margin within twice the logits' tolerance may be a tie the device breaks the other way.
double margin_tolerance(Precision precision, Session& cpu_session) {
  at::NoGradGuard no_grad;
  const at::Tensor logits = cpu_session.forward().to(at::kDouble);
  const Tolerance t = model_tolerance(precision, ModelQuantity::output, logits);
  return 2 * (t.atol + t.rtol * logits.abs().max().item<double>());
}

void generation(const Context& c, const std::function<void(CheckResult)>& emit) {
  CheckResult row = base_row(c, "generation", BugClass::model);
  Stopwatch clock;
  guarded(row, [&] {
    Generation device_tokens;
    std::vector<int64_t> prompt;
    {
      DeviceScope scope(c.target);
      std::unique_ptr<Session> session = open_prepared(c, c.target.device, c.precision);
      Generator& generator = *session->generator();
      auto random = at::make_generator<at::CPUGeneratorImpl>(c.open.seed);
      const at::Tensor ids = at::randint(generator.vocab_size(), {kGenerationPrompt}, random, at::kLong);
      prompt.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + kGenerationPrompt);
      const int64_t new_tokens = std::min(kGenerationNewTokens, generator.max_positions() - kGenerationPrompt);
      device_tokens = generator.greedy(prompt, new_tokens);
      if (fell_back(row, scope)) return;
    }
    std::unique_ptr<Session> session = open_prepared(c, kCpu, Precision::fp32);
    const Generation cpu_tokens = session->generator()->greedy(prompt, static_cast<int64_t>(device_tokens.tokens.size()));
    const GenerationVerdict verdict =
        judge_generation(device_tokens, cpu_tokens, margin_tolerance(c.precision, *session));
    row.elements = static_cast<int64_t>(cpu_tokens.tokens.size());
    row.mismatched = verdict.first_mismatch >= 0 ? 1 : 0;
    if (verdict.first_mismatch >= 0) row.first_bad_index = "[" + std::to_string(verdict.first_mismatch) + "]";
    row.outcome = verdict.passed ? Outcome::pass : Outcome::fail;
    row.message = verdict.message;
    row.tolerance = "greedy tokens equal, except after a step whose CPU top-2 logit margin is within twice the "
                    "logits' tolerance";
  });
  row.seconds = clock.seconds();
  emit(row);
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// The M3 Max review's "!!!!" test: GPT-2 with real weights continues "The rain in Spain" the same
// on the device as on the CPU, and not with "!!!!".
void text_checks(const Context& c, const ModelCheckOptions& options, const std::function<void(CheckResult)>& emit) {
  CheckResult row = base_row(c, "text", BugClass::model);
  row.shape = "prompt " + quoted(kTextPrompt) + ", " + std::to_string(kTextNewTokens) + " new tokens";
  Stopwatch clock;
  guarded(row, [&] {
    const text::Gpt2Bpe bpe = text::Gpt2Bpe::from_directory(options.vocab);
    const std::vector<int64_t> prompt = bpe.encode(kTextPrompt);
    Generation device_tokens;
    {
      DeviceScope scope(c.target);
      std::unique_ptr<Session> session = open_prepared(c, c.target.device, c.precision);
      device_tokens = session->generator()->greedy(prompt, kTextNewTokens);
      if (fell_back(row, scope)) return;
    }
    std::unique_ptr<Session> session = open_prepared(c, kCpu, Precision::fp32);
    const Generation cpu_tokens = session->generator()->greedy(prompt, kTextNewTokens);
    GenerationVerdict verdict = judge_generation(device_tokens, cpu_tokens, margin_tolerance(c.precision, *session));
    const std::string device_text = bpe.decode(prompt) + bpe.decode(device_tokens.tokens);
    const std::string cpu_text = bpe.decode(prompt) + bpe.decode(cpu_tokens.tokens);
    // Any token repeated 4 times in a row where the CPU's text has no such run: a stuck decoder.
    for (int64_t token : std::set<int64_t>(device_tokens.tokens.begin(), device_tokens.tokens.end()))
      if (verdict.passed && longest_run(device_tokens.tokens, token) >= 4 && longest_run(cpu_tokens.tokens, token) < 4) {
        verdict.passed = false;
        verdict.message = "the device repeats token " + std::to_string(token) + " " +
                          std::to_string(longest_run(device_tokens.tokens, token)) + " times in a row, the CPU does not";
      }
    row.elements = kTextNewTokens;
    row.outcome = verdict.passed ? Outcome::pass : Outcome::fail;
    row.message = verdict.message + "; device: " + quoted(device_text) + ", CPU: " + quoted(cpu_text);
    row.tolerance = "greedy tokens equal, except after a step whose CPU top-2 logit margin is within twice the "
                    "logits' tolerance";
  });
  row.seconds = clock.seconds();
  emit(row);
}

// Whether `target` records CUDA graphs, so that the step `run` times is a replay.
bool replays_graphs(const Target& target) { return !graphs_unavailable(target.device); }

std::vector<std::string> passes_of(const Workload& w, const ModelCheckOptions& options, const Target& target) {
  std::vector<std::string> passes{"forward", "gradients"};
  if (is_training(w)) passes.push_back("training");
  if (!is_training(w) && replays_graphs(target)) passes.push_back("step");
  if (generates(w)) passes.push_back("generation");
  if (w.name() == kTextWorkload) passes.push_back("decode");
  if (!options.weights.empty() && w.name() == kTextWorkload) passes.push_back("text");
  return passes;
}

BugClass bug_class_of(const std::string& pass) {
  return pass == "gradients" || pass == "training" ? BugClass::training : BugClass::model;
}

}  // namespace

void validate(const ModelCheckOptions& options) {
  const std::string names = join(workload_names(), ", ");
  for (const std::string& name : options.workloads)
    if (!find_workload(name)) throw UsageError("unknown workload '" + name + "'; the workloads: " + names);
  if (!options.workloads.empty()) {
    for (const Workload* w : selected_workloads(options)) {
      if (!find_size(*w, options.size)) {
        std::vector<std::string> sizes;
        for (const WorkloadSize& s : w->sizes()) sizes.push_back(s.name);
        throw UsageError(w->name() + " has no size '" + options.size + "'; its sizes: " + join(sizes, ", "));
      }
      if (device_initialised(*w, options.size))
        throw UsageError(w->name() + " at size " + options.size +
                         " builds its weights on the device, so the CPU cannot build the same model to compare "
                         "with; model checks take its tiny or small size");
    }
  } else {
    bool any = false;
    for (const Workload* w : workload_catalogue()) any = any || find_size(*w, options.size);
    if (!any) throw UsageError("no workload has a size '" + options.size + "'; every workload has tiny and full");
  }
  if (options.training_steps < 20)
    throw UsageError("model checks train for at least 20 steps (got " + std::to_string(options.training_steps) + ")");
  if (options.precisions.empty()) throw UsageError("model checks need at least one precision");
  if (options.weights.empty() != options.vocab.empty())
    throw UsageError(options.weights.empty() ? "a vocabulary (--vocab) is for the text check, which needs --weights too"
                                             : "the text check with --weights needs GPT-2's vocabulary (--vocab: the "
                                               "folder of encoder.json and vocab.bpe)");
  for (ModelFormat format : options.weight_formats)
    if (!is_quantized(format))
      throw UsageError("the quantised-model check (--model-weight-formats) takes quantised weight formats (q8_0, "
                       "q4_0, q4_k_m, q6_k), not " + std::string(name(format)));
  if (!options.weights.empty() && (options.workloads.size() != 1 || options.workloads.front() != kTextWorkload))
    throw UsageError(std::string("--weights for model checks is the \"The rain in Spain\" text check of one workload, ") +
                     kTextWorkload + " (pass -w " + kTextWorkload + ")");
}

std::vector<CheckResult> run_model_checks(const Target& target, const ModelCheckOptions& options,
                                          const std::function<void(const CheckResult&)>& on_row) {
  validate(options);
  std::vector<CheckResult> rows;
  // On the CPU the reference is the same CPU: say so, so a pass is not read as a second opinion.
  const bool self_check = target.facts.kind == "cpu" && target.fault == nullptr;
  const auto emit = [&](CheckResult row) {
    if (self_check && row.outcome != Outcome::skipped)
      row.message = "self-check, the CPU against itself: " + row.message;
    if (on_row) on_row(row);
    rows.push_back(std::move(row));
  };
  for (const Workload* w : selected_workloads(options)) {
    const WorkloadSize* size = find_size(*w, options.size);
    for (Precision precision : options.precisions) {
      Tf32Scope tf32(precision);
      const Shape shape = size ? small_shape(*w, *size) : Shape{};
      const Context c{target, *w, options.size, precision, shape, OpenOptions{options.seed, options.weights, ""}};
      std::optional<std::string> skip;
      if (!size)
        skip = w->name() + " has no size '" + options.size + "'";
      else if (device_initialised(*w, options.size))
        skip = w->name() + " at size " + options.size + " builds its weights on the device: no CPU reference";
      else if (auto reason = unsupported_reason(target.facts, precision, w->job()))
        skip = *reason;
      else if (auto estimate = w->memory_estimate(options.size, shape, precision);
               estimate && target.facts.memory_bytes > 0 && estimate->total() > target.facts.memory_bytes)
        skip = "needs at least " + format_bytes(double(estimate->total())) + ", the device has " +
               format_bytes(double(target.facts.memory_bytes));
      if (skip) {
        for (const std::string& pass : passes_of(*w, options, target)) {
          CheckResult row = base_row(c, pass, bug_class_of(pass));
          set_failure(row, Outcome::skipped, *skip);
          emit(row);
        }
        continue;
      }
      forward_and_gradients(c, emit);
      if (is_training(*w)) training(c, options.training_steps, emit);
      if (!is_training(*w) && replays_graphs(target)) step_replay(c, emit);
      if (generates(*w)) generation(c, emit);
      if (w->name() == kTextWorkload) gpt2_decode_check(c, emit);
      if (!options.weights.empty() && w->name() == kTextWorkload) text_checks(c, options, emit);
    }
    // Its reference is the dense model, not the CPU's own quantised kernels: no self-check.
    if (w->name() == kQuantModelWorkload)
      for (Precision precision : options.precisions) {
        Tf32Scope tf32(precision);
        run_quant_model_checks(target, options, precision, [&](CheckResult row) {
          if (on_row) on_row(row);
          rows.push_back(std::move(row));
        });
      }
  }
  return rows;
}

}  // namespace mlspeed::verify
