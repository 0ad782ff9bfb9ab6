// The check shared by llama_gguf_decode_cpu_test.cpp and llama_gguf_decode_gpu_test.cpp: a
// quantised GGUF file decoding on a device, one token at a time through the KV cache (the
// quantised matrix-vector kernels, the quantised embedding and lm_head), picks the tokens of the
// dense model of its own dequantised weights wherever that model's choice is clear — the whole
// decode path proven on the device, not op by op. Both models are fed the same tokens (the dense
// model's greedy continuation of a prompt), so each position is compared on its own; a position
// where the dense model's top-1 lead is within the products' rounding (the kernels round their
// inputs to int8 as llama.cpp's do) is skipped, and most positions must be clear.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/models/llama_gguf_write.h"
#include "testing/dequantised_llama.h"
#include "testing/test_support.h"

namespace mlspeed::testing {

// Every position's logits (T, vocab) in float32, each token fed alone through the cache.
inline at::Tensor decode_logits(llama::LlamaForCausalLM& model, const std::vector<int64_t>& ids,
                                const at::Device& device) {
  c10::InferenceMode inference;
  KVCache cache = model->make_cache(1, static_cast<int64_t>(ids.size()));
  std::vector<at::Tensor> rows;
  for (int64_t id : ids)
    rows.push_back(model->forward(at::full({1, 1}, id, at::TensorOptions(at::kLong).device(device)), &cache, true)
                       .reshape({-1})
                       .to(at::kFloat)
                       .cpu());
  return at::stack(rows);
}

// The same through decode_step (the device position: the step a CUDA graph replays, and on CUDA the
// fused kernels of fused/decode_kernels.h), after the first token went through forward().
inline at::Tensor decode_step_logits(llama::LlamaForCausalLM& model, const std::vector<int64_t>& ids,
                                     const at::Device& device) {
  c10::InferenceMode inference;
  KVCache cache = model->make_cache(1, static_cast<int64_t>(ids.size()));
  const auto token = [&](int64_t id) { return at::full({1, 1}, id, at::TensorOptions(at::kLong).device(device)); };
  std::vector<at::Tensor> rows = {model->forward(token(ids[0]), &cache, true).reshape({-1}).to(at::kFloat).cpu()};
  cache.set_position(1);
  for (size_t i = 1; i < ids.size(); ++i)
    rows.push_back(model->decode_step(token(ids[i]), cache).reshape({-1}).to(at::kFloat).cpu());
  return at::stack(rows);
}

// How the quantised model decodes: one token at a time through forward() and the cache, or
// through decode_step.
enum class DecodePath { forward, decode_step };

inline void expect_quantised_decoding_matches_dense(const at::Device& device,
                                                    DecodePath decode_path = DecodePath::forward) {
  llama::LlamaConfig c;  // wide enough for whole K-quant super-blocks (256) in every row
  c.vocab_size = 512;
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  TempDir dir;
  llama::LlamaForCausalLM model(c);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(5));
  {
    // Weights of std 0.02 leave the logits within hundredths of each other; twice that gives a
    // model with clear preferences (logits of about ±2.5) that still damps rounding errors
    // (larger weights amplify them layer by layer).
    at::NoGradGuard no_grad;
    for (at::Tensor& p : model->parameters())
      if (p.dim() == 2) p.mul_(2.0);
  }
  // In logits: the int8-rounded products of the CPU kernels move them by at most 0.07 here.
  constexpr double kClearLead = 0.15;
  for (ModelFormat format : {ModelFormat::q8_0, ModelFormat::q4_0, ModelFormat::q4_k_m, ModelFormat::q6_k}) {
    SCOPED_TRACE(std::string(name(format)));
    const std::string path = dir.file(std::string(name(format)) + ".gguf");
    llama::write_gguf(model, llama::synthetic_vocabulary(c.vocab_size), {format, "test", {}}, path);
    const gguf::File file(path);
    llama::LlamaForCausalLM quantised = llama::load_gguf(file, llama::describe_gguf(file), device, at::kFloat);
    llama::LlamaForCausalLM dense = dequantised_dense(quantised, device);
    quantised->fuse_projections();  // as the workloads do: the fused step needs one matrix for q, k, v
    // The dense model's greedy continuation of a prompt: the tokens both are fed.
    std::vector<int64_t> ids = {1, 17, 300, 42, 7, 99};
    while (ids.size() < 64) ids.push_back(decode_logits(dense, ids, device)[-1].argmax().item<int64_t>());
    const at::Tensor want = decode_logits(dense, ids, device);
    const at::Tensor got = decode_path == DecodePath::forward ? decode_logits(quantised, ids, device)
                                                       : decode_step_logits(quantised, ids, device);
    const at::Tensor top2 = std::get<0>(want.topk(2, -1));
    const at::Tensor clear = (top2.select(1, 0) - top2.select(1, 1)) > kClearLead;
    const at::Tensor agree = want.argmax(-1).eq(got.argmax(-1));
    EXPECT_GE(clear.sum().item<int64_t>(), 16) << "too few clear choices of 64: the model is too flat to judge";
    EXPECT_EQ(at::logical_and(clear, at::logical_not(agree)).sum().item<int64_t>(), 0)
        << "positions with a clear choice where the quantised kernels picked another token";
    // And the logits themselves within the rounding of the int8 inputs (a wrong scale or nibble
    // moves them by whole units).
    EXPECT_LT((got - want).abs().max().item<double>(), kClearLead * 2 / 3);
  }
}

}  // namespace mlspeed::testing
