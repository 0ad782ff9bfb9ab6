// Writes a Llama model as a GGUF file that llama.cpp and mlspeed read, as llama.cpp's converter
// and llama-quantize write one: the metadata llama.cpp's loader needs (general.*, llama.*, the
// tokenizer.ggml.* vocabulary), every tensor under its GGUF name (models/llama_gguf.h's table),
// attn_q and attn_k rows permuted back to llama.cpp's order, norms in F32 and each matrix in the
// format llama.cpp's quantiser gives its role and layer under the file type (core/weight_format.h:
// Q4_0 keeps output.weight in Q6_K).
//
// A matrix the model holds densely is quantised on the CPU (quant/blocks.h's quantisers, one
// matrix at a time: a 7B model never exists twice in memory); one it already stores in the
// wanted format is written as it is; one stored in another format is decoded and quantised again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/core/weight_format.h"
#include "mlspeed/models/llama.h"

namespace mlspeed::llama {

// A vocabulary as GGUF stores it (tokenizer.ggml.*; token types: 1 normal, 2 unknown, 3 control,
// 6 byte): SentencePiece's ("llama", with scores), or a byte-level BPE ("gpt2", with merges and
// the pre-tokenizer's name). Lists left empty, the pre-tokenizer's name empty and an unknown id
// below 0 are not written.
struct GgufVocabulary {
  std::string model = "llama";  // tokenizer.ggml.model
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "first second", best first
  std::string pre;                  // tokenizer.ggml.pre: "llama-bpe", "gpt2", ...
  int32_t bos = 1, eos = 2, unknown = 0;
};

// `size` (at least 259) tokens laid out as Llama 2's: <unk>, <s>, </s>, the 256 byte tokens
// <0x00>..<0xFF>, then made-up pieces: "▁", the lowercase letters alone and after "▁", and
// longer letter runs, every piece reachable by merging two shorter ones, scores falling with the
// index. Not Meta's vocabulary (mlspeed cannot ship it): a tokenizer of the same size and shape,
// that encodes and decodes any text.
GgufVocabulary synthetic_vocabulary(int64_t size);

// `size` (at least 261) tokens laid out as Llama 3's byte-level BPE ("gpt2", pre-tokenizer
// "llama-bpe"): the 256 byte characters in GPT-2's order ("!" is 0, "Ġ" 220), then made-up
// merged pieces (lowercase letter runs alone and after "Ġ", each one merge of a shorter piece and
// a letter, ranked in order), then Llama 3's special tokens as control tokens: <|begin_of_text|>
// (BOS), <|end_of_text|> (EOS), <|start_header_id|>, <|end_header_id|>, <|eot_id|>. Encodes any
// text and wraps a question in Llama 3's chat template.
GgufVocabulary synthetic_llama3_vocabulary(int64_t size);

struct GgufWriteOptions {
  ModelFormat format = ModelFormat::q4_0;
  std::string name = "mlspeed";  // general.name
  // Called after each tensor is written to the file's plan, with (done, total): quantising a 7B
  // model takes minutes.
  std::function<void(int64_t done, int64_t total)> progress;
};

void write_gguf(LlamaForCausalLM& model, const GgufVocabulary& vocabulary, const GgufWriteOptions& options,
                const std::string& path);

}  // namespace mlspeed::llama
