#include "mlspeed/workloads/llama2_generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"
#include "testing/llama_greedy.h"

namespace mlspeed {
namespace {

const Workload& llama2() { return testing::catalogue_workload("llama2-7b-generate"); }

using llama::GenerateSession;

std::unique_ptr<Session> open_tiny_llama(Precision precision = Precision::fp32, uint64_t seed = 1,
                                   const std::string& weights = "") {
  return llama2().open("tiny", c10::Device(c10::kCPU), precision, OpenOptions{seed, weights, ""});
}

GenerateSession& as_generate(Session& session) { return dynamic_cast<GenerateSession&>(session); }

using testing::llama_greedy_without_cache;

TEST(Llama2Generate, DescribesItself) {
  const Workload& w = llama2();
  EXPECT_EQ(w.job(), Job::infer);
  EXPECT_EQ(w.item_unit(), "tokens");
  std::vector<std::string> names;
  for (const auto& s : w.sizes()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tiny", "small", "medium", "full"}));
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 6'738'415'616);  // SPEC.md: Llama-2-7B
  EXPECT_EQ(full->seqs, (std::vector<int64_t>{512}));
  EXPECT_EQ(full->new_tokens, (std::vector<int64_t>{128}));
  EXPECT_EQ(full->batches, (std::vector<int64_t>{1}));
  EXPECT_EQ(full->max_seq, 4096);
  EXPECT_EQ(full->summary, "32 layers, 32 heads, 4096 wide, ffn 11008, vocab 32000");
  EXPECT_EQ(find_size(w, "medium")->parameters, 1'100'048'384);  // TinyLlama-1.1B
  EXPECT_EQ(find_size(w, "medium")->max_seq, 4096);
  EXPECT_EQ(find_size(w, "medium")->summary, "22 layers, 32 heads (4 kv), 2048 wide, ffn 5632, vocab 32000");
  // 12 * (4 * 768^2 + 3 * 768 * 2048 + 2 * 768) + 768 + 2 * 32000 * 768
  EXPECT_EQ(find_size(w, "small")->parameters, 134'105'856);
  // 2 * (2 * 32^2 + 2 * 32 * 16 + 3 * 32 * 64 + 2 * 32) + 32 + 2 * 256 * 32
  EXPECT_EQ(find_size(w, "tiny")->parameters, 34'976);
  EXPECT_EQ(w.items_per_step(Shape{2, 512, 0}), 1024.0);
  EXPECT_EQ(w.items_per_step(Shape{2, 0, 128}), 256.0);
}

TEST(Llama2Generate, EverySizeCountsItsBuiltModel) {
  // Built without memory on the meta device (the 7B model is counted from its config only).
  for (const char* size : {"tiny", "small", "medium"}) {
    const llama::LlamaConfig c = llama::generate_config(size);
    llama::LlamaForCausalLM model(c, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
    int64_t n = 0;
    for (const auto& p : model->parameters()) n += p.numel();
    EXPECT_EQ(n, find_size(llama2(), size)->parameters) << size;
  }
  EXPECT_THROW(llama::generate_config("huge"), std::invalid_argument);
}

TEST(Llama2Generate, ShapesArePromptAndGenerationRowsAsLlamaBench) {
  const Workload& w = llama2();
  const WorkloadSize& full = *find_size(w, "full");
  const std::vector<Shape> defaults = w.shapes(full, {});
  ASSERT_EQ(defaults.size(), 2u);
  EXPECT_EQ(defaults[0].batch, 1);
  EXPECT_EQ(defaults[0].seq, 512);  // pp512
  EXPECT_EQ(defaults[0].new_tokens, 0);
  EXPECT_EQ(defaults[1].seq, 0);  // tg128
  EXPECT_EQ(defaults[1].new_tokens, 128);

  const std::vector<Shape> custom = w.shapes(full, ShapeRequest{{1, 4}, {128, 256}, {32}});
  std::vector<std::vector<int64_t>> got;
  for (const Shape& s : custom) got.push_back({s.batch, s.seq, s.new_tokens});
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{
                     {1, 128, 0}, {4, 128, 0}, {1, 256, 0}, {4, 256, 0}, {1, 0, 32}, {4, 0, 32}}));
  const std::vector<Shape> only_seqs = w.shapes(full, ShapeRequest{{}, {64}, {}});
  ASSERT_EQ(only_seqs.size(), 2u);
  EXPECT_EQ(only_seqs[1].new_tokens, 128) << "tg keeps its default when only -s is given";
}

TEST(Llama2Generate, FlopsPerTokenOfFullSize) {
  // 2 * 6,476,271,616 + 262,144,000 / 512 + 4 * 32 * 4096 * (512 + 1) / 2
  EXPECT_DOUBLE_EQ(llama2().flops_per_item("full", Shape{1, 512, 0}), 13'087'535'104.0);
  // 2 * 6,476,271,616 + 262,144,000 + 4 * 32 * 4096 * (128 + 1) / 2
  EXPECT_DOUBLE_EQ(llama2().flops_per_item("full", Shape{4, 0, 128}), 13'248'503'808.0);
}

// The roofline of a tg step, counted independently from the built model: every parameter but
// embed_tokens, shared by the batch, one embedding row per token, and the keys and values (kv
// heads only) each decode step attends over, averaged over the steps. pp rows have none.
TEST(Llama2Generate, BytesPerTokenAreTheWeightsAndTheCacheADecodeStepReads) {
  auto session = open_tiny_llama();
  llama::LlamaForCausalLM& model = as_generate(*session).llama_model();
  const llama::LlamaConfig& c = model->config();
  double shared = 0;
  for (const auto& item : model->named_parameters())
    if (item.key() != "model.embed_tokens.weight") shared += double(item.value().numel());
  const double row = double(model->model->embed_tokens->weight.size(1));
  for (int64_t batch : {1, 4}) {
    double cache = 0;  // step j (from 0) attends over j + 1 positions of kv_heads * head_dim keys and values
    for (int64_t j = 0; j < 8; ++j)
      cache += 2.0 * double(c.num_hidden_layers * c.num_key_value_heads * c.head_dim()) * double(j + 1);
    cache /= 8;
    const double expected = shared / double(batch) + row + cache;
    EXPECT_NEAR(llama2().bytes_per_item("tiny", Shape{batch, 0, 8}, Precision::fp32), expected * 4, 1e-6);
    EXPECT_NEAR(llama2().bytes_per_item("tiny", Shape{batch, 0, 8}, Precision::bf16), expected * 2, 1e-6);
  }
  // Llama-2-7B tg128 in bf16: (6,476,271,616 + 32000 * 4096 + 4096 + 2 * 32 * 4096 * 64.5) * 2.
  EXPECT_DOUBLE_EQ(llama2().bytes_per_item("full", Shape{1, 0, 128}, Precision::bf16), 13'248'512'000.0);
  EXPECT_EQ(llama2().bytes_per_item("full", Shape{1, 512, 0}, Precision::bf16), 0.0) << "pp is compute-bound";
}

TEST(Llama2Generate, MemoryEstimateIsWeightsPlusCacheAndALowerBound) {
  const Workload& w = llama2();
  const auto pp = *w.memory_estimate("full", Shape{1, 512, 0}, Precision::fp32);
  EXPECT_EQ(pp.model, 6'738'415'616LL * 4);
  const int64_t cache = 2LL * 32 * 1 * 32 * 128 * 512 * 4;  // k and v, every layer, 512 positions
  EXPECT_GE(pp.per_step, cache);
  EXPECT_LT(pp.per_step, 2 * cache);
  EXPECT_EQ(w.memory_estimate("full", Shape{1, 512, 0}, Precision::bf16)->model, 6'738'415'616LL * 2);
  EXPECT_EQ(w.memory_estimate("full", Shape{1, 512, 0}, Precision::fp16)->model, 6'738'415'616LL * 2);
  // medium's cache holds 4 kv heads of 64, not 32 heads.
  EXPECT_GE(w.memory_estimate("medium", Shape{2, 0, 128}, Precision::bf16)->per_step, 2LL * 22 * 2 * 4 * 64 * 128 * 2);

  // At tiny: the model term is the weights exactly, the step term at least the cache allocated.
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    auto session = open_tiny_llama(precision);
    int64_t weights = 0;
    for (const auto& p : session->model().parameters()) weights += p.nbytes();
    const Shape shape{3, 20, 0};
    const auto estimate = *w.memory_estimate("tiny", shape, precision);
    EXPECT_EQ(estimate.model, weights) << name(precision);
    session->prepare(shape);
    // 20 positions, allocated rounded up to 32
    EXPECT_EQ(as_generate(*session).cache().bytes(), 2 * 2 * 3 * 2 * 8 * 32 * (precision == Precision::bf16 ? 2 : 4));
    EXPECT_GE(estimate.per_step, as_generate(*session).cache().bytes()) << name(precision);
  }
}

TEST(Llama2Generate, PromptStepIsTheLastPositionsLogits) {
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    auto session = open_tiny_llama(precision);
    auto& generate = as_generate(*session);
    session->prepare(Shape{2, 16, 0});
    session->step();
    const at::Tensor out = session->last_output();
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 256})) << name(precision);
    EXPECT_EQ(out.scalar_type(), precision == Precision::bf16 ? at::kBFloat16 : at::kFloat);
    EXPECT_TRUE(at::isfinite(out).all().item<bool>());
    EXPECT_EQ(generate.cache().length(), 16);
    // The same as the last row of a full forward of the same prompt (regenerated from the seed).
    const at::Tensor prompt = at::randint(256, {2, 16}, at::make_generator<at::CPUGeneratorImpl>(1), at::kLong);
    c10::InferenceMode inference;
    const at::Tensor reference = generate.llama_model()->forward(prompt).select(1, 15);
    EXPECT_TRUE(out.allclose(reference, 1e-5, 1e-5)) << name(precision);
    session->step();  // the cache is reset, not overrun
    EXPECT_TRUE(session->last_output().equal(out)) << name(precision);
  }
}

TEST(Llama2Generate, GenerationStepIsGreedyDecodingThroughTheCache) {
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    auto session = open_tiny_llama(precision);
    auto& generate = as_generate(*session);
    session->prepare(Shape{2, 0, 8});
    session->step();
    const at::Tensor tokens = session->last_output();
    EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, 8}));
    EXPECT_EQ(tokens.scalar_type(), at::kLong);
    EXPECT_EQ(generate.cache().length(), 8);
    EXPECT_FALSE(session->last_first_token_ms()) << "a timed step never synchronises mid-way";
    if (precision == Precision::fp32) {  // bf16 argmax ties may resolve differently across kernels
      const at::Tensor starts = at::randint(256, {2, 1}, at::make_generator<at::CPUGeneratorImpl>(1), at::kLong);
      for (int64_t b = 0; b < 2; ++b) {
        const std::vector<int64_t> expected =
            llama_greedy_without_cache(generate.llama_model(), {starts[b][0].item<int64_t>()}, 8);
        for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(tokens[b][i].item<int64_t>(), expected[i]) << b << "," << i;
      }
    }
    session->step();
    EXPECT_TRUE(session->last_output().equal(tokens)) << name(precision);
  }
}

// llama-bench's -d: the step starts from a cache already holding `depth` positions of random
// context, filled once in prepare(), and generates what a model given context + start token
// would generate.
TEST(Llama2Generate, GenerationAtADepthContinuesTheContextInTheCache) {
  auto session = open_tiny_llama();
  auto& generate = as_generate(*session);
  const Shape shape{2, 0, 6, 30};
  session->prepare(shape);
  EXPECT_EQ(generate.cache().length(), 30) << "the context is in the cache before any step";
  session->step();
  const at::Tensor tokens = session->last_output();
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(generate.cache().length(), 36);
  // prepare() draws the start tokens, then the context, from the seed's generator.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor starts = at::randint(256, {2, 1}, generator, at::kLong);
  const at::Tensor context = at::randint(256, {2, 30}, generator, at::kLong);
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<int64_t> ids(context[b].data_ptr<int64_t>(), context[b].data_ptr<int64_t>() + 30);
    ids.push_back(starts[b][0].item<int64_t>());
    const std::vector<int64_t> expected = llama_greedy_without_cache(generate.llama_model(), ids, 6);
    for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(tokens[b][i].item<int64_t>(), expected[i]) << b << "," << i;
  }
  session->step();  // back to the depth, not to an empty cache
  EXPECT_TRUE(session->last_output().equal(tokens));
  EXPECT_EQ(generate.cache().length(), 36);

  // A prompt at a depth: its last position's logits as a full forward over context + prompt.
  session->prepare(Shape{1, 5, 0, 20});
  session->step();
  auto again = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor prompt = at::randint(256, {1, 5}, again, at::kLong);
  const at::Tensor context20 = at::randint(256, {1, 20}, again, at::kLong);
  c10::InferenceMode inference;
  const at::Tensor reference = generate.llama_model()->forward(at::cat({context20, prompt}, 1)).select(1, 24);
  EXPECT_TRUE(session->last_output().allclose(reference, 1e-5, 1e-5));
}

TEST(Llama2Generate, ADepthIsAttendedOverInFlopsBytesAndMemory) {
  const Workload& w = llama2();
  // Each token attends to the 4096 positions of context besides its own run: 4 L h x 4096 more.
  const double attention = 4.0 * 32 * 4096;
  EXPECT_DOUBLE_EQ(w.flops_per_item("full", Shape{1, 0, 128, 4096}) - w.flops_per_item("full", Shape{1, 0, 128}),
                   attention * 4096);
  EXPECT_DOUBLE_EQ(w.flops_per_item("full", Shape{1, 512, 0, 4096}) - w.flops_per_item("full", Shape{1, 512, 0}),
                   attention * 4096);
  // ... and reads their keys and values: 2 L kv_heads head_dim x 4096 elements of 2 bytes in bf16.
  EXPECT_DOUBLE_EQ(w.bytes_per_item("full", Shape{1, 0, 128, 4096}, Precision::bf16) -
                       w.bytes_per_item("full", Shape{1, 0, 128}, Precision::bf16),
                   2.0 * 32 * 32 * 128 * 4096 * 2);
  const int64_t cache_4224 = 2LL * 32 * 32 * 128 * 4224 * 2;  // 4096 + 128 positions, a multiple of 16
  EXPECT_GE(w.memory_estimate("full", Shape{1, 0, 128, 4096}, Precision::bf16)->per_step, cache_4224);
}

TEST(Llama2Generate, ShapesTakeEveryDepth) {
  const Workload& w = llama2();
  EXPECT_TRUE(w.takes_depth());
  ShapeRequest request;
  request.depths = {0, 4096};
  std::vector<std::vector<int64_t>> got;
  for (const Shape& s : w.shapes(*find_size(w, "full"), request)) got.push_back({s.seq, s.new_tokens, s.depth});
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{{512, 0, 0}, {512, 0, 4096}, {0, 128, 0}, {0, 128, 4096}}));
}

// llama-bench's -p 0 and -n 0: a length of 0 leaves that kind of test out.
TEST(Llama2Generate, ALengthOfZeroLeavesThatTestOut) {
  const Workload& w = llama2();
  const WorkloadSize& full = *find_size(w, "full");
  ShapeRequest generation_only;
  generation_only.seqs = {0};
  std::vector<std::vector<int64_t>> got;
  for (const Shape& s : w.shapes(full, generation_only)) got.push_back({s.seq, s.new_tokens});
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{{0, 128}}));
  ShapeRequest prompts_only;
  prompts_only.new_tokens = {0, 64};
  got.clear();
  for (const Shape& s : w.shapes(full, prompts_only)) got.push_back({s.seq, s.new_tokens});
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{{512, 0}, {0, 64}}));
  ShapeRequest none;
  none.seqs = {0};
  none.new_tokens = {0};
  EXPECT_TRUE(w.shapes(full, none).empty());
}

// llama-bench's model and size columns. llama.cpp's README shows Llama-2-7B Q4_0 as
// "llama 7B Q4_0 | 3.56 GiB | 6.74 B" (output.weight in Q6_K, every other matrix in Q4_0).
TEST(Llama2Generate, NamesItsStoredModelAsLlamaBench) {
  const Workload& w = llama2();
  const auto q4_0 = w.stored_model("full", Numerics(Precision::fp16, ModelFormat::q4_0));
  ASSERT_TRUE(q4_0);
  EXPECT_EQ(q4_0->label, "llama 7B Q4_0");
  EXPECT_NEAR(double(q4_0->bytes) / double(1ull << 30), 3.56, 0.005);
  const auto bf16 = w.stored_model("full", Numerics(Precision::bf16));
  EXPECT_EQ(bf16->label, "llama 7B BF16");
  EXPECT_EQ(bf16->bytes, 6'738'415'616LL * 2);
  EXPECT_EQ(w.stored_model("medium", Numerics(Precision::bf16, ModelFormat::q8_0))->label, "llama 1B Q8_0");
  EXPECT_FALSE(testing::catalogue_workload("gpt2-generate").stored_model("full", Numerics(Precision::fp32)));
}

TEST(Llama2Generate, BadShapesAndFloat16OnThisCpu) {
  auto session = open_tiny_llama();
  EXPECT_THROW(session->step(), c10::Error);  // before prepare
  EXPECT_THROW(session->prepare(Shape{1, 8, 8}), c10::Error);
  EXPECT_THROW(session->prepare(Shape{1, 0, 0}), c10::Error);
  EXPECT_THROW(session->prepare(Shape{0, 8, 0}), c10::Error);
  EXPECT_THROW(session->prepare(Shape{1, 65, 0}), c10::Error);
  EXPECT_THROW(llama2().open("huge", c10::Device(c10::kCPU), Precision::fp32, {}), std::invalid_argument);
  if (llama::cpu_runs_float16()) {
    auto half = open_tiny_llama(Precision::fp16);
    half->prepare(Shape{1, 4, 0});
    half->step();
    EXPECT_EQ(half->last_output().scalar_type(), at::kHalf);
  } else {
    try {
      open_tiny_llama(Precision::fp16);
      ADD_FAILURE() << "fp16 on a CPU without float16 kernels was not refused";
    } catch (const c10::NotImplementedError& e) {  // status unsupported, not error
      EXPECT_NE(std::string(e.what()).find("fp16 on the CPU"), std::string::npos) << e.what();
    }
  }
}

TEST(Llama2Generate, SameSeedSameWeightsOnTheCpuPathAndTheDevicePath) {
  const llama::LlamaConfig c = llama::generate_config("tiny");
  const c10::Device cpu(c10::kCPU);
  for (bool on_device : {false, true}) {
    GenerateSession a(c, cpu, Precision::bf16, 4, on_device, true), b(c, cpu, Precision::bf16, 4, on_device, true),
        other(c, cpu, Precision::bf16, 5, on_device, true);
    const at::Tensor wa = a.llama_model()->lm_head->weight, wb = b.llama_model()->lm_head->weight;
    EXPECT_EQ(wa.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(wa.equal(wb)) << on_device;
    EXPECT_FALSE(wa.equal(other.llama_model()->lm_head->weight)) << on_device;
  }
}

TEST(Llama2Generate, GeneratorIsDeterministicAndMatchesDecodingWithoutCache) {
  auto session = open_tiny_llama(Precision::fp32, 3);
  Generator* generator = session->generator();
  ASSERT_NE(generator, nullptr);
  EXPECT_EQ(generator->vocab_size(), 256);
  EXPECT_EQ(generator->max_positions(), 64);
  const std::vector<int64_t> prompt = {1, 17, 42, 200, 5};
  const Generation g = generator->greedy(prompt, 10);
  ASSERT_EQ(g.tokens.size(), 10u);
  ASSERT_EQ(g.top2_margins.size(), 10u);
  for (double m : g.top2_margins) EXPECT_GE(m, 0);
  EXPECT_GT(g.first_token_ms, 0);
  EXPECT_GE(g.total_ms, g.first_token_ms);
  EXPECT_EQ(g.tokens, llama_greedy_without_cache(as_generate(*session).llama_model(), prompt, 10));

  auto again = open_tiny_llama(Precision::fp32, 3);
  const Generation h = again->generator()->greedy(prompt, 10);
  EXPECT_EQ(h.tokens, g.tokens);
  EXPECT_EQ(h.top2_margins, g.top2_margins);
  EXPECT_EQ(generator->greedy(prompt, 10).tokens, g.tokens) << "a second call starts afresh";
  EXPECT_TRUE(generator->greedy(prompt, 0).tokens.empty());

  EXPECT_THROW(generator->greedy({}, 4), std::invalid_argument);
  EXPECT_THROW(generator->greedy({1, 256}, 4), std::invalid_argument);
  EXPECT_THROW(generator->greedy({-1}, 4), std::invalid_argument);
  EXPECT_THROW(generator->greedy(prompt, 60), std::invalid_argument);  // 5 + 60 > 64
  EXPECT_EQ(generator->greedy(prompt, 59).tokens.size(), 59u);
}

TEST(Llama2Generate, WeightsRoundTripAndHuggingFaceExtras) {
  testing::TempDir dir;
  const std::string path = dir.file("tiny.safetensors");
  auto source = open_tiny_llama(Precision::fp32, 1);
  save_weights(source->model(), path);
  // The weights alone decide the outputs (the synthetic inputs come from the seed: use fixed ones).
  const at::Tensor ids = at::randint(256, {2, 10}, at::make_generator<at::CPUGeneratorImpl>(7), at::kLong);
  const auto logits = [&](Session& session) {
    c10::InferenceMode inference;
    return as_generate(session).llama_model()->forward(ids);
  };
  const std::vector<int64_t> prompt = {3, 1, 4, 1, 5};
  const Generation expected = source->generator()->greedy(prompt, 6);

  auto loaded = open_tiny_llama(Precision::fp32, 2, path);
  for (const auto& layer : as_generate(*loaded).llama_model()->model->typed_layers)
    EXPECT_TRUE(layer->self_attn->fused() && layer->mlp->fused()) << "weights are loaded into the fused tensors";
  EXPECT_TRUE(logits(*loaded).equal(logits(*source)));
  EXPECT_EQ(loaded->generator()->greedy(prompt, 6).tokens, expected.tokens);
  auto unloaded = open_tiny_llama(Precision::fp32, 2);
  EXPECT_FALSE(logits(*unloaded).equal(logits(*source)));

  // An older HF checkpoint: bfloat16, with every layer's rotary inv_freq saved.
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : source->model().named_parameters())
    tensors.emplace_back(item.key(), item.value().to(at::kBFloat16));
  for (int layer = 0; layer < 2; ++layer)
    tensors.emplace_back("model.layers." + std::to_string(layer) + ".self_attn.rotary_emb.inv_freq", at::ones({4}));
  const std::string hf = dir.file("hf.safetensors");
  safetensors::save(hf, tensors);
  auto from_hf = open_tiny_llama(Precision::bf16, 2, hf);
  from_hf->prepare(Shape{1, 0, 6});
  from_hf->step();
  EXPECT_EQ(from_hf->last_output().sizes(), (std::vector<int64_t>{1, 6}));
  at::Tensor hf_head;
  for (const auto& [tensor_name, tensor] : tensors)
    if (tensor_name == "lm_head.weight") hf_head = tensor;
  EXPECT_TRUE(as_generate(*from_hf).llama_model()->lm_head->weight.equal(hf_head));

  // A checkpoint of another shape is refused by name.
  tensors.erase(tensors.begin());
  safetensors::save(hf, tensors);
  try {
    open_tiny_llama(Precision::fp32, 2, hf);
    ADD_FAILURE() << "a checkpoint without embed_tokens was accepted";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find("model.embed_tokens.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mlspeed
