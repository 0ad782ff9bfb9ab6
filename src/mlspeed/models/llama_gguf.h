// A Llama-family model read from a GGUF file (llama.cpp's format: `general.architecture` "llama",
// which Llama 2 and 3, Mistral 7B and TinyLlama all use), and written to one.
//
// The configuration comes from the metadata (llama.*: context_length, embedding_length,
// block_count, feed_forward_length, attention.head_count, attention.head_count_kv,
// attention.layer_norm_rms_epsilon, rope.freq_base; the vocabulary's size from
// tokenizer.ggml.tokens), checked against every tensor's shape. Tensors map to the Hugging Face
// names of models/llama.h:
//
//   token_embd.weight       model.embed_tokens       output_norm.weight   model.norm
//   output.weight           lm_head (absent: tied to token_embd, as llama.cpp reads it)
//   blk.N.attn_q/k/v.weight self_attn.q/k/v_proj     blk.N.attn_output    self_attn.o_proj
//   blk.N.ffn_gate/up/down  mlp.gate/up/down_proj    blk.N.attn_norm      input_layernorm
//   blk.N.ffn_norm          post_attention_layernorm
//
// llama.cpp's converter permutes the rows of attn_q and attn_k so that each head's rotary pairs
// are adjacent (Meta's interleaved RoPE); the model here rotates Hugging Face's halves, so those
// rows are put back (unpermute_rows) on reading and permuted again on writing. Rows are whole
// blocks, so a quantised tensor is permuted without decoding it.
//
// Matrices keep the file's format, tensor by tensor (Q4_0 files keep output.weight in Q6_K);
// plain F32/F16/BF16 matrices and the norms are converted to the compute dtype.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>

#include "mlspeed/core/weight_format.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama.h"

namespace mlspeed::llama {

struct GgufModel {
  LlamaConfig config;
  StoredWeights stored;  // the file's format of every matrix
  ModelFormat file_type = ModelFormat::f32;  // general.file_type, or the matrices' most common format
  std::string size_label;  // llama.cpp's model type: "7B", "13B", "70B", "8B", "1B"; else from the parameters ("15M")
  std::string label;       // llama-bench's model column: "llama 7B Q4_0"
  int64_t parameters = 0;  // every tensor's elements
  uint64_t tensor_bytes = 0;  // every tensor's bytes as stored (llama-bench's model size)
  bool tied_output = false;   // no output.weight: lm_head reads token_embd
};

// The model a file describes; InputFileError naming the file and the key or tensor for anything
// it cannot be (another architecture, a missing key, a shape that disagrees, an unknown tensor).
GgufModel describe_gguf(const gguf::File& file);

// How load_gguf stores the matrices for `dtype`: plain ones (F32/F16/BF16) become dense
// parameters in the compute dtype, quantised ones keep the file's format.
StoredWeights as_loaded(const GgufModel& model, at::ScalarType dtype);

// Builds the model on `device` computing in `dtype` (as_loaded) and copies every tensor in.
LlamaForCausalLM load_gguf(const gguf::File& file, const GgufModel& model, const at::Device& device,
                           at::ScalarType dtype);

// Hugging Face row order from llama.cpp's for attn_q (heads = attention heads) or attn_k
// (heads = kv heads): HF row h*d + j*d/2 + i is the file's row h*d + 2i + j. `inverse`: the other
// way, for writing.
at::Tensor unpermute_rows(int64_t rows, int64_t heads, bool inverse = false);

}  // namespace mlspeed::llama
