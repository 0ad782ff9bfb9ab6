#include "mlspeed/generate/stopping_greedy.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "testing/llama_greedy.h"

namespace mlspeed {
namespace {

// A small Llama with grouped-query attention, fp32 on the CPU (exact argmax comparisons).
llama::LlamaForCausalLM stopping_small_llama() {
  llama::LlamaConfig c;
  c.vocab_size = 96;
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  llama::LlamaForCausalLM model(c);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(11));
  {
    // Larger weights than init's std 0.02: clear preferences, so no argmax tie decides a token.
    at::NoGradGuard no_grad;
    for (at::Tensor& p : model->parameters())
      if (p.dim() == 2) p.mul_(4.0);
  }
  return model;
}

const c10::Device kStoppingCpu{c10::kCPU};

TEST(StoppingGreedy, DecodesTheTokensOfAForwardOverTheWholeSequence) {
  llama::LlamaForCausalLM model = stopping_small_llama();
  const std::vector<int64_t> prompt = {1, 17, 42, 5, 80};
  const StoppingGeneration g =
      greedy_until_end(model, kStoppingCpu, prompt, 12, [](int64_t) { return false; }, nullptr);
  EXPECT_FALSE(g.ended_by_token);
  EXPECT_FALSE(g.cancelled);
  EXPECT_EQ(g.generation.tokens, testing::llama_greedy_without_cache(model, prompt, 12));
  EXPECT_EQ(g.generation.top2_margins.size(), 12u);
  for (double margin : g.generation.top2_margins) EXPECT_GE(margin, 0.0);
}

TEST(StoppingGreedy, StopsAfterTheEndTokenOrWhenCancelled) {
  llama::LlamaForCausalLM model = stopping_small_llama();
  const std::vector<int64_t> prompt = {3, 9, 27};
  const std::vector<int64_t> all = testing::llama_greedy_without_cache(model, prompt, 8);
  const int64_t end = all[3];
  const StoppingGeneration g =
      greedy_until_end(model, kStoppingCpu, prompt, 8, [&](int64_t id) { return id == end; }, nullptr);
  EXPECT_TRUE(g.ended_by_token);
  ASSERT_FALSE(g.generation.tokens.empty());
  EXPECT_EQ(g.generation.tokens.back(), end) << "the end token is kept";
  EXPECT_EQ(g.generation.tokens, std::vector<int64_t>(all.begin(), std::find(all.begin(), all.end(), end) + 1));

  const std::atomic<bool> cancel{true};
  const StoppingGeneration c =
      greedy_until_end(model, kStoppingCpu, prompt, 8, [](int64_t) { return false; }, &cancel);
  EXPECT_TRUE(c.cancelled);
  EXPECT_EQ(c.generation.tokens.size(), 1u) << "the prompt's token, then the check between two tokens";
}

}  // namespace
}  // namespace mlspeed
