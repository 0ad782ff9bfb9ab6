// The tokenizer a Llama GGUF file carries (its tokenizer.ggml.* metadata), read as llama.cpp's
// loader reads a "llama" (SentencePiece) vocabulary, for `mlspeed generate --model FILE.gguf`:
//
//   tokenizer.ggml.model              required: "llama". "gpt2" (Llama 3's byte-level BPE) is
//                                     refused as not supported yet; any other name is refused
//   tokenizer.ggml.tokens             required (llama.cpp also requires it)
//   tokenizer.ggml.scores             required here; llama.cpp takes 0 for every score when it is
//   tokenizer.ggml.token_type         absent and "normal" for every type, but a SentencePiece
//                                     vocabulary without them cannot merge by priority or fall
//                                     back to bytes, so the text would be tokenised wrongly
//   tokenizer.ggml.bos_token_id       default 1   (llama.cpp's defaults for a "llama" vocabulary)
//   tokenizer.ggml.eos_token_id       default 2
//   tokenizer.ggml.unknown_token_id   default 0
//   tokenizer.ggml.padding_token_id   default none; one outside the vocabulary is none too (llama.cpp
//                                     warns and keeps its default; nothing here pads)
//   tokenizer.ggml.eot_token_id       optional: a second token that ends a generation (llama.cpp's
//                                     end-of-generation set is EOS and EOT)
//   tokenizer.ggml.add_bos_token      default true
//   tokenizer.ggml.add_eos_token      default false
//   tokenizer.ggml.add_space_prefix   default true
//
// BOS, EOS, unknown and EOT must be ids of the vocabulary (llama.cpp falls back to the default
// for one that is not; a file that names a token it lacks is refused here instead). Every error is
// an InputFileError that starts with the file's path and names the key.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mlspeed/io/gguf.h"
#include "mlspeed/text/llama_tokenizer.h"

namespace mlspeed::llama {

struct GgufTokenizer {
  text::LlamaTokenizer tokenizer;
  bool add_bos = true;
  bool add_eos = false;
  std::vector<int64_t> end_of_generation;  // EOS, and EOT when the file names one: generation stops at either

  // The ids of `text` as llama.cpp tokenises a prompt: BOS and EOS as the file says.
  std::vector<int64_t> encode(std::string_view text) const;
  bool ends_generation(int64_t id) const;
};

GgufTokenizer read_gguf_tokenizer(const gguf::File& file);

}  // namespace mlspeed::llama
