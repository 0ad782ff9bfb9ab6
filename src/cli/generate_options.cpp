#include "cli/generate_options.h"

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed::cli {
namespace {

// Comma-separated token ids; unlike a sweep list, an id may repeat.
std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      throw UsageError("--ids: '" + text + "' has an empty item; write token ids like 464,6290,287,8602");
    ids.push_back(parse_nonnegative_int(item, "--ids"));
    if (comma == std::string::npos) return ids;
    start = comma + 1;
  }
}

OptionTable<GenerateOptions> generate_table() {
  using O = GenerateOptions;
  using T = const std::string&;
  return {
      {"-w,--workload", "NAME", "a workload that generates (see `mlspeed workloads`)", "gpt2-generate", "",
       [](O& o, T t) { o.workload = t; }},
      {"--sizes", "SIZE", "the workload's size, one of `mlspeed workloads`", "full", "",
       [](O& o, T t) { o.size = t; }},
      {"-d,--device", "DEVICE", "one device: cpu, cuda:N, mps", "cpu", "", [](O& o, T t) { o.device = t; }},
      {"-t,--dtype", "DTYPE", "fp32, tf32, fp16, bf16 (the model cast to it)", "fp32", "",
       [](O& o, T t) { o.precision = parse_one_precision(t, "--dtype"); }},
      {"--weights", "FILE", "the model's weights, a .safetensors file with the public checkpoint's names",
       std::nullopt, "random", [](O& o, T t) { o.weights = existing_file(t, "--weights"); }},
      {"--seed", "N", "seed of the random weights", "0", "",
       [](O& o, T t) { o.seed = static_cast<uint64_t>(parse_nonnegative_int(t, "--seed")); }},
      {"-m,--model", "FILE",
       "a GGUF file (llama.cpp's format) of a Llama-family model: its weights and its vocabulary; excludes -w, "
       "--sizes, --weights, --vocab, --ids, --seed",
       std::nullopt, "none", [](O& o, T t) { o.model = existing_file(t, "--model"); }},
      {"--prompt", "TEXT", "the prompt as text (with --vocab DIR, or --model FILE.gguf)", std::nullopt, "none",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--prompt: the text is empty");
         o.prompt = t;
       }},
      {"--ids", "LIST", "the prompt as token ids: 464,6290,287,8602", std::nullopt, "none",
       [](O& o, T t) { o.ids = parse_ids(t); }},
      {"--vocab", "DIR", "a folder with GPT-2's encoder.json and vocab.bpe, to read --prompt and print text",
       std::nullopt, "none", [](O& o, T t) { o.vocab = existing_file(t, "--vocab", /*folder_too=*/true); }},
      {"-g,--new-tokens", "N",
       "tokens to generate; with --model the most an answer gets (its end-of-sequence token ends it), by default 500 "
       "or what the model's context leaves",
       "16", "",
       [](O& o, T t) { o.new_tokens = parse_int_in_range(t, "--new-tokens", 1, kMaxShapeValue); }},
      {"--chat", "", "with --model: wrap --prompt in Llama-2-chat's template, [INST] TEXT [/INST]", std::nullopt, "",
       [](O& o, T) { o.chat = true; }},
      {"--system", "TEXT", "with --model: the chat template's system prompt (implies --chat)", std::nullopt, "none",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--system: the text is empty");
         o.system = t;
         o.chat = true;
       }},
      {"--questions", "",
       "with --model: ask the 20 bundled questions in the chat template, each -r times, one row each, with the mean "
       "and median tokens/s (mac-ml-speed-test's llama.cpp test)",
       std::nullopt, "", [](O& o, T) { o.questions = o.chat = true; }},
      {"-r,--repetitions", "N", "with --questions: times each question is asked", "5", "",
       [](O& o, T t) { o.repetitions = parse_count(t, "--repetitions", 1); }},
      format_option<O, Format::md, Format::json, Format::jsonl, Format::csv>(),
      db_option<O>(),
      no_db_option<O>("do not store the generation"),
      label_option<O>("a name for the stored run (\"driver 580\"), shown by `mlspeed history`", "none"),
  };
}

}  // namespace

const OptionTable<GenerateOptions>& generate_option_table() {
  static const OptionTable<GenerateOptions> table = generate_table();
  return table;
}

namespace {

// --model brings the weights and the vocabulary; the catalogue's options have nothing to choose.
void check_model_options(const Given& given) {
  for (const char* option : {"workload", "sizes", "weights", "vocab", "ids", "seed"})
    if (given.count(option))
      throw UsageError(std::string("--") + option + " is for a catalogue workload; --model FILE.gguf brings its " +
                       "own model, weights and vocabulary (give --prompt TEXT or --questions)");
  if (given.count("questions") && given.count("prompt"))
    throw UsageError("--questions asks the bundled questions, and --prompt one of your own; give one");
  if (!given.count("questions") && !given.count("prompt"))
    throw UsageError("no prompt: with --model give --prompt TEXT, or --questions for the bundled question set");
  if (given.count("repetitions") && !given.count("questions"))
    throw UsageError("--repetitions counts the times each of --questions is asked; add --questions");
}

}  // namespace

GenerateOptions parse_generate_options(const Given& given) {
  if (given.count("label") && given.count("no-db"))
    throw UsageError("--label names the stored run, and --no-db stores nothing; give one");
  if (given.count("model")) {
    check_model_options(given);
    GenerateOptions options = parse_options(generate_option_table(), given);
    if (!given.count("new-tokens")) options.new_tokens = 0;  // the answer's own length, within a limit
    return options;
  }
  for (const char* option : {"chat", "system", "questions", "repetitions"})
    if (given.count(option))
      throw UsageError(std::string("--") + option + " needs --model FILE.gguf (a Llama chat model in llama.cpp's " +
                       "format; `mlspeed quantize random:tiny x.gguf` writes a small one)");
  return parse_options(generate_option_table(), given);
}

}  // namespace mlspeed::cli
