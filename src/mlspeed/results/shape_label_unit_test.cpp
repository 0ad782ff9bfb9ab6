#include "mlspeed/results/shape_label.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

Result shaped(Job job, const std::string& unit, int64_t batch, int64_t seq, int64_t new_tokens) {
  Result r;
  r.job = job;
  r.item_unit = unit;
  r.batch = batch;
  r.seq_len = seq;
  r.new_tokens = new_tokens;
  return r;
}

TEST(ShapeLabel, NamesEachKindOfStepAsLlamaBenchDoes) {
  EXPECT_EQ(shape_label(shaped(Job::infer, "samples", 4, 128, 0)), "b4 s128");      // BERT
  EXPECT_EQ(shape_label(shaped(Job::train, "images", 32, 0, 0)), "b32");            // ResNet
  EXPECT_EQ(shape_label(shaped(Job::train, "tokens", 64, 256, 0)), "b64 s256");     // nanoGPT trains on tokens
  EXPECT_EQ(shape_label(shaped(Job::infer, "tokens", 1, 512, 0)), "pp512");         // Llama's prompt pass
  EXPECT_EQ(shape_label(shaped(Job::infer, "tokens", 1, 0, 128)), "tg128");         // and its generation
  EXPECT_EQ(shape_label(shaped(Job::infer, "tokens", 1, 4, 16)), "pp4+tg16");       // GPT-2 generate
  EXPECT_EQ(shape_label(shaped(Job::infer, "tokens", 4, 0, 128)), "b4 tg128");      // a batch above 1 is shown
  Result deep = shaped(Job::infer, "tokens", 1, 0, 128);
  deep.depth = 4096;
  EXPECT_EQ(shape_label(deep), "tg128 @ d4096");  // after a filled KV cache (llama-bench's -d)
  deep.seq_len = 512;
  deep.new_tokens = 0;
  EXPECT_EQ(shape_label(deep), "pp512 @ d4096");
}

}  // namespace
}  // namespace mlspeed
