#include "mlspeed/verify/known_issues.h"

#include <cstdio>
#include <utility>

#include "mlspeed/verify/faults.h"

namespace mlspeed::verify {
namespace {

bool message_mentions(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// Rows stored before the op level took the short dtype names say "bfloat16".
bool is_bf16(const std::string& dtype) { return dtype == "bf16" || dtype == "bfloat16"; }

// LibTorch 1.13's CPU transposed convolution in bfloat16 checks the weight as a forward
// convolution's and throws "expected input[2, 4, 8, 9] to have 5 channels" on valid shapes.
// PyTorch 2.0 rewrote the CPU path (oneDNN, with channels-last); 2.11 does not throw.
bool conv_transpose_scope(const CheckResult& r) {
  return is_bf16(r.dtype) && r.check.rfind("conv_transpose", 0) == 0;
}
bool conv_transpose_failure(const CheckResult& r) {
  return conv_transpose_scope(r) && r.outcome == Outcome::error && message_mentions(r.message, "channels");
}

// The CPU's bfloat16 layer_norm and group_norm sum their weight and bias gradients in bfloat16
// (over N*H*W terms): off by 0.1-0.25 over 120 terms, by more than 100% over 65537 rows. The
// input's own gradient ("float input 0") is right, and is not covered.
bool norm_grad_scope(const CheckResult& r) {
  return is_bf16(r.dtype) && r.pass == "backward" && (r.check == "layer_norm" || r.check == "group_norm");
}
bool norm_grad_failure(const CheckResult& r) {
  return norm_grad_scope(r) && r.outcome == Outcome::fail && !message_mentions(r.message, "gradient of float input 0");
}

// The CPU's gelu writing into an `out=` tensor that is a transposed view stores its values in
// the wrong order (every element off): the unary-op-into-transposed-out bug reported upstream.
bool gelu_out_scope(const CheckResult& r) { return r.check == "gelu" && r.layout == "out-strided"; }
bool gelu_out_failure(const CheckResult& r) { return gelu_out_scope(r) && r.outcome == Outcome::fail; }

// CUDA multinomial with replacement draws against the cumulative sum of the probabilities in their
// own dtype: in bfloat16 the last boundaries near 1.0 are 2^-8 apart, so a category of p = 0.043
// loses ~13% of its draws (H100 2026-11-23 and H200 2026-11-30: -7 standard errors, every run).
bool multinomial_scope(const CheckResult& r) {
  return is_bf16(r.dtype) && r.check == "multinomial" && r.variant == "with replacement";
}
bool multinomial_failure(const CheckResult& r) {
  return multinomial_scope(r) && r.outcome == Outcome::fail && message_mentions(r.message, "standard errors");
}

std::pair<int, int> major_minor(const std::string& version) {
  int major = -1, minor = -1;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2) return {-1, -1};
  return {major, minor};
}

}  // namespace

const std::vector<KnownIssue>& known_issues() {
  static const std::vector<KnownIssue> table = {
      {"bf16-conv-transpose-cpu",
       "bfloat16 conv_transpose1d/2d throw on valid shapes on the CPU (the weight is checked as a forward "
       "convolution's: \"expected input ... to have N channels\")",
       "https://github.com/pytorch/pytorch/pull/92530 (PyTorch 2.0 rewrote the CPU transposed convolution)", "cpu",
       1, 13, 1, 13, conv_transpose_scope, conv_transpose_failure},
      {"bf16-norm-weight-grad-cpu",
       "bfloat16 layer_norm / group_norm weight and bias gradients are summed in bfloat16 on the CPU",
       "https://github.com/pytorch/pytorch/issues/77507 (CPU normalisation reductions in bfloat16)", "cpu", 1, 13, 2,
       11, norm_grad_scope, norm_grad_failure},
      {"gelu-out-transposed-cpu",
       "gelu into an out= tensor that is a transposed view writes its values in the wrong order on the CPU",
       "https://github.com/pytorch/pytorch/issues/100764 (a unary op with a transposed out= writes transposed "
       "values)",
       "cpu", 1, 13, 2, 11, gelu_out_scope, gelu_out_failure},
      {"bf16-multinomial-cdf-cuda",
       "bfloat16 multinomial with replacement on CUDA builds its category boundaries by a cumulative sum in "
       "bfloat16, so categories near the end of the row are drawn too rarely",
       "https://github.com/pytorch/pytorch/issues/43115 (multinomial's boundaries, cumsum(probs) / sum, collapse "
       "when precision runs out)",
       "cuda", 1, 13, 2, 11, multinomial_scope, multinomial_failure},
  };
  return table;
}

const KnownIssue* find_known_issue(const std::string& id) {
  for (const KnownIssue& issue : known_issues())
    if (issue.id == id) return &issue;
  return nullptr;
}

bool applies(const KnownIssue& issue, const std::string& torch_version, const std::string& device_kind) {
  if (issue.device_kind != device_kind) return false;
  const auto [major, minor] = major_minor(torch_version);
  if (major < 0) return false;
  const bool after_first = major > issue.first_major || (major == issue.first_major && minor >= issue.first_minor);
  const bool before_last = major < issue.last_major || (major == issue.last_major && minor <= issue.last_minor);
  return after_first && before_last;
}

void label_known_issue(CheckResult& row) {
  if (row.outcome != Outcome::fail && row.outcome != Outcome::error) return;
  // A self-test's injected fault is never a LibTorch bug: the check it targets keeps its failures.
  // Other checks are labelled as usual, so the self-test's verdict counts only what the fault did.
  // A healthy perturbation targets no check: every row is labelled as on a device without it.
  if (!row.fault.empty()) {
    const Fault* fault = find_fault(row.fault);
    if (!fault) return;
    if (!fault->healthy && (fault->caught_by_check.empty() || fault->caught_by_check == row.check)) return;
  }
  for (const KnownIssue& issue : known_issues()) {
    if (applies(issue, row.host.torch_version, row.device_facts.kind) && issue.matches(row)) {
      row.outcome = Outcome::known_issue;
      row.known_issue = issue.id;
      return;
    }
  }
}

std::string versions(const KnownIssue& issue) {
  std::string text = "LibTorch " + std::to_string(issue.first_major) + "." + std::to_string(issue.first_minor);
  if (issue.last_major != issue.first_major || issue.last_minor != issue.first_minor)
    text += "-" + std::to_string(issue.last_major) + "." + std::to_string(issue.last_minor);
  return text;
}

}  // namespace mlspeed::verify
