#include "mlspeed/generate/generation_printer.h"

#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

std::string token_id_list(const std::vector<int64_t>& ids) {
  std::vector<std::string> items;
  for (int64_t id : ids) items.push_back(std::to_string(id));
  return join(items, " ");
}

std::string ms(double value) { return printf_string("%.2f", value); }

// Model output in quotes, its line breaks and control bytes escaped as JSON escapes them (and a
// byte sequence that is not UTF-8 replaced), so that it can neither break the layout nor drive
// the terminal.
std::string json_string_literal(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class GenerationMarkdown : public RowPrinter<GenerationRow> {
 public:
  explicit GenerationMarkdown(std::ostream& out) : out_(out) {}

  void header(const RunContext& context) override { out_ << describe_context(context) << "\n" << std::flush; }

  void row(const GenerationRow& g) override {
    out_ << printable(g.workload) << " (" << printable(g.size) << ") on " << printable(g.device) << ", "
         << name(g.precision) << ", weights: "
         << (g.weights.empty() ? "random (seed " + std::to_string(g.seed) + ")" : printable(g.weights)) << "\n";
    if (g.status != Status::ok) {
      out_ << name(g.status) << ": " << printable(g.message) << "\n" << std::flush;
      return;
    }
    out_ << "prompt ids (" << g.prompt_ids.size() << "): " << token_id_list(g.prompt_ids) << "\n";
    out_ << "new ids (" << g.new_ids.size() << "): " << token_id_list(g.new_ids) << "\n";
    if (!g.text.empty()) out_ << "text: " << json_string_literal(g.text) << "\n";
    if (g.first_token_ms) out_ << "time to first token: " << ms(*g.first_token_ms) << " ms";
    if (g.ms_per_token) out_ << "; then " << ms(*g.ms_per_token) << " ms/token (" << g.new_ids.size() - 1 << " tokens)";
    if (g.total_ms) out_ << "; total " << ms(*g.total_ms) << " ms\n";
    std::istringstream warnings(g.warnings);
    for (std::string line; std::getline(warnings, line);) out_ << "warning: " << printable(line) << "\n";
    out_ << std::flush;
  }

  void footer(bool complete) override {
    if (!complete) out_ << "(interrupted before every generation ran)\n" << std::flush;
  }

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<RowPrinter<GenerationRow>> make_generation_printer(Format format, std::ostream& out) {
  if (format == Format::md) return std::make_unique<GenerationMarkdown>(out);
  return std::make_unique<MachinePrinter<GenerationRow>>(format, out);
}

}  // namespace mlspeed
