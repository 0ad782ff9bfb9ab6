// The tokenizer a Llama GGUF file carries (its tokenizer.ggml.* metadata), read as llama.cpp's
// loader reads a "llama" (SentencePiece) or a "gpt2" (byte-level BPE) vocabulary, for
// `mlspeed generate --model FILE.gguf`:
//
//   tokenizer.ggml.model              required: "llama" (Llama 2, TinyLlama, Mistral: text/llama_tokenizer.h)
//                                     or "gpt2" (Llama 3: text/byte_bpe_tokenizer.h); any other is refused
//   tokenizer.ggml.tokens             required (llama.cpp also requires it)
//   tokenizer.ggml.token_type         required here; llama.cpp takes "normal" for every type when it is
//                                     absent, but then a SentencePiece vocabulary cannot fall back to
//                                     bytes, and a byte-level one has no special tokens
//   tokenizer.ggml.scores             "llama": required here (llama.cpp takes 0 for every score, and the
//                                     text would be merged in the wrong order); "gpt2": not read
//   tokenizer.ggml.merges             "gpt2": required, as llama.cpp requires it
//   tokenizer.ggml.pre                "gpt2": the pre-tokenizer, "llama-bpe" (Llama 3's pattern; also its
//                                     other names "llama3", "llama-v3") or "default", "gpt2", "gpt-2"
//                                     (GPT-2's pattern); absent: "default", as llama.cpp. Any other name
//                                     is refused (llama.cpp knows some 40, each its own pattern; its
//                                     "default" is a cascade of four patterns, GPT-2's here)
//   tokenizer.ggml.bos_token_id       default 1, "gpt2": 11  (llama.cpp's defaults)
//   tokenizer.ggml.eos_token_id       default 2, "gpt2": 11
//   tokenizer.ggml.unknown_token_id   "llama": default 0
//   tokenizer.ggml.padding_token_id   "llama": default none; one outside the vocabulary is none too
//                                     (llama.cpp warns and keeps its default; nothing here pads)
//   tokenizer.ggml.eot_token_id       optional: a second token that ends a generation (llama.cpp's
//                                     end-of-generation set is EOS and EOT)
//   tokenizer.ggml.add_bos_token      default true; "gpt2": true for Llama 3's pre-tokenizer, else false
//   tokenizer.ggml.add_eos_token      default false
//   tokenizer.ggml.add_space_prefix   "llama": default true
//
// BOS, EOS, unknown and EOT must be ids of the vocabulary (llama.cpp falls back to the default
// for one that is not; a file that names a token it lacks is refused here instead). A "gpt2"
// vocabulary's <|eot_id|>, <|eom_id|> and <|end_of_text|> end a generation too, as llama.cpp finds
// them by their text. Every error is an InputFileError that starts with the file's path and names
// the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/io/gguf.h"
#include "mlspeed/text/byte_bpe_tokenizer.h"
#include "mlspeed/text/llama_tokenizer.h"

namespace mlspeed::llama {

// The chat template a vocabulary's model was tuned with, as far as its tokens tell.
enum class ChatTemplate {
  llama2,  // Llama-2-chat's [INST] ... [/INST] (text/llama_tokenizer.h): a "llama" vocabulary, or a
           // "gpt2" one without Llama 3's header tokens
  llama3,  // Llama 3's <|start_header_id|> ... (text/byte_bpe_tokenizer.h): a "gpt2" vocabulary with them
};

struct GgufTokenizer {
  // One of the two, as tokenizer.ggml.model says.
  std::optional<text::LlamaTokenizer> llama;  // "llama"
  std::optional<text::ByteBpeTokenizer> gpt2;  // "gpt2"
  bool add_bos = true;
  bool add_eos = false;
  std::vector<int64_t> end_of_generation;  // EOS, EOT and the like: generation stops at any of them
  ChatTemplate chat_template = ChatTemplate::llama2;

  // The ids of `text` as llama.cpp tokenises a prompt: BOS and EOS as the file says; special
  // tokens written in the text are text (llama.cpp with parse_special=false).
  std::vector<int64_t> encode(std::string_view text) const;
  // The ids of one chat turn in chat_template, answered by the model next (`system` empty: none).
  std::vector<int64_t> encode_chat(std::string_view system, std::string_view user) const;
  // The text of `ids`, each < vocab_size() (std::out_of_range otherwise): SentencePiece's control
  // tokens as nothing, byte-level BPE's special tokens as their text.
  std::string decode(const std::vector<int64_t>& ids) const;
  int64_t vocab_size() const;
  bool ends_generation(int64_t id) const;
};

GgufTokenizer read_gguf_tokenizer(const gguf::File& file);

}  // namespace mlspeed::llama
