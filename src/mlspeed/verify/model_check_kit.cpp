#include "mlspeed/verify/model_check_kit.h"

#include <torch/nn/modules/batchnorm.h>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/text.h"

namespace mlspeed::verify::models {
namespace {

std::string shape_string(const Shape& s) {
  std::string text = "batch " + std::to_string(s.batch);
  if (s.seq > 0) text += ", seq " + std::to_string(s.seq);
  if (s.new_tokens > 0) text += ", new tokens " + std::to_string(s.new_tokens);
  return text;
}

// Dropout draws from the device's random stream, which is not the CPU's: verification turns it
// off in every module. BatchNorm stays in training mode (its batch statistics are deterministic).
void without_dropout(torch::nn::Module& model) {
  const bool training = model.is_training();
  model.eval();
  if (!training) return;
  for (const auto& m : model.modules(/*include_self=*/false))
    if (m->as<torch::nn::BatchNorm2d>() || m->as<torch::nn::BatchNorm1d>()) m->train();
}

}  // namespace

std::map<std::string, at::Tensor> snapshot(torch::nn::Module& model) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : model.named_parameters()) out.emplace(p.key(), p.value().detach().to(kCpu, at::kFloat).clone());
  return out;
}

CheckResult base_row(const Context& c, const std::string& pass, BugClass bug_class) {
  CheckResult row;
  row.device = c.target.facts.id;
  row.level = Level::model;
  row.check = c.workload.name();
  row.variant = c.size;
  row.dtype = std::string(name(c.precision));
  row.shape = shape_string(c.shape);
  row.pass = pass;
  row.bug_class = bug_class;
  row.tf32 = compat::tf32_matmul_enabled();
  record_flags(row);
  return row;
}


void set_failure(CheckResult& row, Outcome outcome, const std::string& message) {
  row.outcome = outcome;
  row.message = message;
}

std::unique_ptr<Session> open_prepared(const Context& c, const c10::Device& device, Precision precision) {
  std::unique_ptr<Session> session = c.workload.open(c.size, device, precision, c.open);
  session->prepare(c.shape);
  without_dropout(session->model());
  return session;
}

bool fell_back(CheckResult& row, const DeviceScope& scope) {
  const std::vector<std::string> fallbacks = scope.fallbacks();
  if (fallbacks.empty()) return false;
  row.fallback = fallbacks.front();
  set_failure(row, Outcome::not_tested, "ran on the CPU instead of the device: " + first_line(fallbacks.front()));
  return true;
}

}  // namespace mlspeed::verify::models
