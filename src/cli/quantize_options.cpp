#include "cli/quantize_options.h"

#include "cli/option_values.h"
#include "mlspeed/core/errors.h"

namespace mlspeed::cli {
namespace {

constexpr const char* kRandom = "random:";

OptionTable<QuantizeOptions> quantize_table() {
  using O = QuantizeOptions;
  using T = const std::string&;
  return {
      {"in", "IN",
       "a GGUF file of a Llama-family model (any format mlspeed reads); a Hugging Face Llama checkpoint folder "
       "or its model.safetensors, as convert_hf_to_gguf.py reads one (config.json; model.safetensors, or "
       "model-0000N-of-0000M.safetensors shards and model.safetensors.index.json; tokenizer.json: Llama 2, "
       "Mistral, TinyLlama, not yet Llama 3's vocabulary); or random:SIZE for random weights of a "
       "llama2-7b-generate size (tiny, small, medium = TinyLlama-1.1B's shape, full = Llama-2-7B's) with a "
       "made-up 32,000-token vocabulary",
       std::nullopt, "required",
       [](O& o, T t) {
         if (t.rfind(kRandom, 0) == 0) {
           if (t.size() == std::string(kRandom).size())
             throw UsageError("IN: 'random:' names no size; write random:tiny, random:medium or random:full");
           o.input = t;
         } else {
           o.input = existing_file(t, "IN", /*folder_too=*/true);
         }
       }},
      {"out", "OUT", "the GGUF file to write (replaced whole, never left half-written)", std::nullopt, "required",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("OUT: the path is empty");
         o.output = t;
       }},
      {"--type", "TYPE",
       "the file type, as llama-quantize names them: q4_0, q8_0, q4_k_m, q6_k, f16, bf16, f32 (any case); "
       "norms stay F32 and llama.cpp's quantiser's mix is kept (Q4_0 keeps output.weight in Q6_K)",
       "q4_0", "",
       [](O& o, T t) {
         const std::optional<ModelFormat> f = parse_model_format(t);
         if (!f) throw UsageError("--type: unknown value '" + t + "'; choose from: " + model_format_choices());
         o.type = *f;
       }},
      {"--seed", "N", "seed of random:SIZE's weights", "0", "",
       [](O& o, T t) { o.seed = static_cast<uint64_t>(parse_nonnegative_int(t, "--seed")); }},
  };
}

}  // namespace

const OptionTable<QuantizeOptions>& quantize_option_table() {
  static const OptionTable<QuantizeOptions> table = quantize_table();
  return table;
}

QuantizeOptions parse_quantize_options(const Given& given) {
  if (!given.count("in") || !given.count("out"))
    throw UsageError("quantize takes IN and OUT: mlspeed quantize model-f16.gguf model-q4_0.gguf --type q4_0");
  QuantizeOptions options = parse_options(quantize_option_table(), given);
  if (options.input == options.output)
    throw UsageError("OUT is IN: write the quantised model to another file");
  return options;
}

}  // namespace mlspeed::cli
