#include "mlspeed/generate/generation_printer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "mlspeed/core/text.h"
#include "mlspeed/generate/chat_questions.h"

namespace mlspeed {
namespace {

std::string token_id_list(const std::vector<int64_t>& ids) {
  std::vector<std::string> items;
  for (int64_t id : ids) items.push_back(std::to_string(id));
  return join(items, " ");
}

std::string ms(double value) { return printf_string("%.2f", value); }
std::string rate(const std::optional<double>& tokens_per_s) {
  return tokens_per_s ? printf_string("%.1f", *tokens_per_s) : "-";
}

// Model output in quotes, its line breaks and control bytes escaped as JSON escapes them (and a
// byte sequence that is not UTF-8 replaced), so that it can neither break the layout nor drive
// the terminal.
std::string json_string_literal(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ending(const GenerationRow& g) {
  return g.stopped_by == "eos" ? "ended by EOS" : g.stopped_by == "limit" ? "stopped at the -g limit" : g.stopped_by;
}

// A prompt given as text (--model): the prompt, then the answer as lines of its own, each indented
// and with its control bytes escaped, so that it reads as text yet cannot break the layout.
void print_answer(std::ostream& out, const GenerationRow& g) {
  out << "prompt" << (g.chat_template.empty() ? "" : " (" + printable(g.chat_template) + " chat template)") << ": "
      << json_string_literal(g.prompt_text) << "\n";
  out << "answer:\n";
  if (g.new_text.empty()) out << "    (no text: the new tokens decode to nothing, as an end-of-sequence token does)\n";
  std::istringstream lines(g.new_text);
  for (std::string line; std::getline(lines, line);) out << "    " << printable(line) << "\n";
}

void print_times(std::ostream& out, const GenerationRow& g) {
  if (g.first_token_ms) out << "time to first token: " << ms(*g.first_token_ms) << " ms";
  if (g.ms_per_token) out << "; then " << ms(*g.ms_per_token) << " ms/token (" << g.new_ids.size() - 1 << " tokens)";
  if (g.total_ms) out << "; total " << ms(*g.total_ms) << " ms\n";
  if (g.stopped_by.empty()) return;  // a row stored before the speeds were
  out << "prompt processing: " << g.prompt_tokens << " tokens, " << rate(g.prompt_tokens_per_s) << " tokens/s\n";
  out << "generation: " << g.new_tokens << " new tokens, " << rate(g.generation_tokens_per_s) << " tokens/s ("
      << ending(g) << ")\n";
}

void print_generation(std::ostream& out, const GenerationRow& g) {
  out << printable(g.workload) << " (" << printable(g.size) << ") on " << printable(g.device) << ", "
      << name(g.precision) << ", weights: "
      << (g.weights.empty() ? "random (seed " + std::to_string(g.seed) + ")" : printable(g.weights))
      << (g.weight_format ? " (" + std::string(name(*g.weight_format)) + ")" : "") << "\n";
  if (g.status != Status::ok) {
    out << name(g.status) << ": " << printable(g.message) << "\n";
    return;
  }
  out << "prompt ids (" << g.prompt_ids.size() << "): " << token_id_list(g.prompt_ids) << "\n";
  out << "new ids (" << g.new_ids.size() << "): " << token_id_list(g.new_ids) << "\n";
  if (!g.prompt_text.empty()) print_answer(out, g);
  else if (!g.text.empty()) out << "text: " << json_string_literal(g.text) << "\n";
  print_times(out, g);
  std::istringstream warnings(g.warnings);
  for (std::string line; std::getline(warnings, line);) out << "warning: " << printable(line) << "\n";
}

// Each warning of the rows once, with how many answers gave it when more than one did.
void print_distinct_warnings(std::ostream& out, const std::vector<GenerationRow>& rows) {
  std::vector<std::pair<std::string, int64_t>> counted;
  for (const GenerationRow& g : rows) {
    std::istringstream lines(g.warnings);
    for (std::string line; std::getline(lines, line);) {
      auto it = std::find_if(counted.begin(), counted.end(), [&](const auto& c) { return c.first == line; });
      if (it == counted.end()) counted.emplace_back(line, 1);
      else ++it->second;
    }
  }
  if (!counted.empty()) out << "\n";
  for (const auto& [line, n] : counted)
    out << "warning" << (n > 1 ? " (" + std::to_string(n) + " answers)" : "") << ": " << printable(line) << "\n";
}

// The question rows as one table (pp: prompt processing, tg: text generation, as llama-bench names
// them; prompt and new: token counts), then the speeds over all of them (mean and median), how the
// answers ended, and why any failed.
void print_questions(std::ostream& out, const std::vector<GenerationRow>& rows) {
  const GenerationRow& first = rows.front();
  out << printable(first.workload) << " on " << printable(first.device) << ", " << name(first.precision)
      << ", weights: " << printable(first.weights) << "\n\n";
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> failures;
  for (const GenerationRow& g : rows) {
    const bool ok = g.status == Status::ok;
    cells.push_back({std::to_string(g.question), excerpt(g.prompt_text, 40), std::to_string(g.repetition),
                     std::to_string(g.prompt_tokens), ok ? rate(g.prompt_tokens_per_s) : std::string(name(g.status)),
                     ok ? std::to_string(g.new_tokens) : "-", ok ? rate(g.generation_tokens_per_s) : "-",
                     ok ? g.stopped_by : "-"});
    if (!ok) failures.push_back("question " + std::to_string(g.question) + " rep " + std::to_string(g.repetition) +
                                ": " + std::string(name(g.status)) + ": " + one_line(g.message));
  }
  out << markdown_table({"#", "question", "rep", "prompt", "pp tokens/s", "new", "tg tokens/s", "end"},
                        {true, false, true, true, true, true, true, false}, cells);
  const ChatSpeedSummary s = summarize_chat_speeds(rows);
  out << "\n" << s.generations << " answers: " << s.new_tokens << " new tokens in "
      << format_duration(s.total_s) << ", " << s.ended_by_eos << " ended by EOS, " << s.generations - s.ended_by_eos
      << " at the -g limit" << (s.failed ? ", " + std::to_string(s.failed) + " failed" : "") << "\n\n";
  const auto mean_median = [](int64_t n, double mean, double median) {
    return n ? std::vector<std::string>{printf_string("%.1f", mean), printf_string("%.1f", median)}
             : std::vector<std::string>{"-", "-"};
  };
  std::vector<std::string> prompt = {"prompt processing"}, generation = {"generation"};
  for (const auto& v : mean_median(s.prompt_samples, s.prompt_mean, s.prompt_median)) prompt.push_back(v);
  for (const auto& v : mean_median(s.generation_samples, s.generation_mean, s.generation_median))
    generation.push_back(v);
  out << markdown_table({"tokens/s", "mean", "median"}, {false, true, true}, {prompt, generation});
  if (!failures.empty()) out << "\n";
  for (const std::string& f : failures) out << f << "\n";
  print_distinct_warnings(out, rows);
}

class GenerationMarkdown : public RowPrinter<GenerationRow> {
 public:
  explicit GenerationMarkdown(std::ostream& out) : out_(out) {}

  void header(const RunContext& context) override { out_ << describe_context(context) << "\n" << std::flush; }

  // A question's row waits for the table at the end; any other prints at once.
  void row(const GenerationRow& g) override {
    if (g.question > 0) {
      questions_.push_back(g);
      return;
    }
    print_generation(out_, g);
    out_ << std::flush;
  }

  void footer(bool complete) override {
    if (!questions_.empty()) print_questions(out_, questions_);
    if (!complete) out_ << "(interrupted before every generation ran)\n";
    out_ << std::flush;
  }

 private:
  std::ostream& out_;
  std::vector<GenerationRow> questions_;
};

}  // namespace

std::unique_ptr<RowPrinter<GenerationRow>> make_generation_printer(Format format, std::ostream& out) {
  if (format == Format::md) return std::make_unique<GenerationMarkdown>(out);
  return std::make_unique<MachinePrinter<GenerationRow>>(format, out);
}

}  // namespace mlspeed
