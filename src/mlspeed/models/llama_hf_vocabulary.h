// The vocabulary of a Hugging Face Llama checkpoint written as a GGUF "llama" vocabulary, as
// llama.cpp's converter writes one for a checkpoint whose tokenizer is only tokenizer.json
// (convert_hf_to_gguf.py's _set_vocab_llama_hf: gguf-py's LlamaHfVocab and SpecialVocab):
//
//   tokens   model.vocab of tokenizer.json in id order (ids 0..n-1, each once), then its
//            added_tokens past them in id order (contiguous); an added token with an id of the
//            vocabulary gives that id its text and, when "special", its type
//   types    byte (6) for "<0xNN>"; control (3) for a special token (an added token marked
//            "special", BOS, EOS); unknown (2) for the unknown token (LlamaHfVocab makes it
//            control; SentencePiece's converter, TheBloke's files and this reader's tokenizer
//            call it unknown); user-defined (4) for the other added tokens past the vocabulary;
//            normal (1) for the rest
//   scores   tokenizer.json has none: a piece that model.merges makes scores minus the rank of
//            its first merge (Hugging Face's converter lists a SentencePiece model's merges by the
//            score of the piece they make), so that llama.cpp's tokenizer, which merges the pair
//            making the best-scored piece, tokenises as Hugging Face does; -1000 for the rest
//            (they are never made by a merge). llama.cpp's LlamaHfVocab gives every token -1000,
//            which merges left to right instead and tokenises differently
//   padding  up to config.json's vocab_size with "[PAD1]", "[PAD2]"... unused (5), as llama.cpp's
//            SentencePiece converter pads (the embedding has a row for every id); more tokens
//            than vocab_size is refused
//   BOS/EOS/unknown  tokenizer_config.json's bos_token/eos_token/unk_token (a string or
//            {"content": ...}), else config.json's bos_token_id/eos_token_id, else tokenizer.json's
//            model.unk_token, else the tokens "<s>", "</s>", "<unk>", else llama.cpp's defaults
//            1, 2, 0
//
// Only Llama's SentencePiece-style BPE (model.type "BPE" with byte_fallback: Llama 2, Mistral,
// TinyLlama) is read. A byte-level BPE (Llama 3: a ByteLevel pre-tokenizer or decoder) is refused
// as not supported yet, any other model type by name. Every error is an InputFileError naming
// the file and the key.
#pragma once

#include "mlspeed/models/llama_gguf_write.h"
#include "mlspeed/models/llama_hf.h"

namespace mlspeed::llama {

GgufVocabulary read_hf_vocabulary(const HfCheckpoint& checkpoint);

}  // namespace mlspeed::llama
