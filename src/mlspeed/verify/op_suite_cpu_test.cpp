// The op suite on a healthy CPU: no false alarms across seeds, selection, the layouts it claims,
// the neighbour check of out= and in-place views, and the statistical tests both ways.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/op_suite.h"

namespace mlspeed::verify {
namespace {

Target plain_cpu_target() {
  Target t;
  t.facts.id = "cpu";
  t.facts.kind = "cpu";
  t.device = c10::Device(c10::kCPU);
  return t;
}

// What the suite finds wrong in LibTorch's own CPU kernels: real results of these platforms,
// reported as findings in results/2026-11-23-h100-verify/README.md. The false-alarm tests set
// exactly these rows aside:
//  - gelu with out= a transposed view writes its values in the wrong order (BUGS L5; LibTorch
//    1.13 and 2.11);
//  - bfloat16 layer_norm / group_norm weight and bias gradients accumulate in bfloat16
//    (layer_norm over 65537 rows: 100-230% off; group_norm over 120 terms: 0.1-0.2 off against
//    a 0.05 tolerance; 1.13 and 2.11);
//  - conv_transpose1d/2d in bfloat16 throw on valid shapes (the weight is checked as a forward
//    convolution's: "expected input[2, 4, 8, 9] to have 5 channels"; 1.13);
//  - matmul_out of a batch by a matrix into a transposed out view throws "The size of tensor a
//    (24) must match the size of tensor b (72)" (2.11, CPU and CUDA).
bool known_platform_error(const CheckResult& r) {
  if (r.outcome == Outcome::pass || r.outcome == Outcome::skipped) return false;
  if (r.dtype == "bf16" && r.check.rfind("conv_transpose", 0) == 0) return true;
  if (r.layout == "out-strided" && r.check == "gelu") return true;
  if (r.layout == "out-strided" && r.check == "matmul" && r.variant == "batched-broadcast" &&
      r.outcome == Outcome::error)
    return true;
  return r.dtype == "bf16" && r.pass == "backward" && (r.check == "layer_norm" || r.check == "group_norm") &&
         r.message.find("gradient of float input 0") == std::string::npos;
}

// Rows that are neither pass nor a stated skip, as readable lines.
std::vector<std::string> alarms(const std::vector<CheckResult>& rows) {
  std::vector<std::string> out;
  for (const CheckResult& r : rows)
    if ((r.outcome == Outcome::fail || r.outcome == Outcome::error || r.outcome == Outcome::not_tested) &&
        !known_platform_error(r))
      out.push_back(std::string(name(r.outcome)) + ": " + describe(r) + " [" + r.layout + ", " + r.size_class + "]");
  return out;
}

TEST(OpSuite, QuickSuiteGivesNoFalseAlarmsAcrossSeeds) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    OpSuiteOptions options;
    options.quick = true;
    options.seed = seed;
    const auto rows = run_op_suite(plain_cpu_target(), options, nullptr);
    ASSERT_GT(rows.size(), 100u);
    const auto bad = alarms(rows);
    EXPECT_TRUE(bad.empty()) << "seed " << seed << ": " << bad.size() << " alarms:\n" << join(bad, "\n");
  }
}

TEST(OpSuite, DefaultSuiteGivesNoFalseAlarmsAndCoversEveryLayoutAndPass) {
  OpSuiteOptions options;
  options.seed = 99;
  std::vector<CheckResult> streamed;
  const auto rows = run_op_suite(plain_cpu_target(), options, [&](const CheckResult& r) { streamed.push_back(r); });
  EXPECT_EQ(streamed.size(), rows.size());
  const auto bad = alarms(rows);
  EXPECT_TRUE(bad.empty()) << bad.size() << " alarms:\n" << join(bad, "\n");
  std::set<std::string> layouts, passes, classes;
  int passed = 0;
  for (const CheckResult& r : rows) {
    layouts.insert(r.layout);
    passes.insert(r.pass);
    classes.insert(std::string(name(r.bug_class)));
    passed += r.outcome == Outcome::pass;
    if (r.pass == "forward" && r.outcome == Outcome::pass) EXPECT_TRUE(r.reproducible.has_value()) << describe(r);
  }
  EXPECT_EQ(layouts.size(), layout_names().size());
  EXPECT_EQ(passes, (std::set<std::string>{"forward", "backward", "statistics"}));
  EXPECT_EQ(classes, (std::set<std::string>{"layout", "size", "training", "random", "precision", "op"}));
  EXPECT_GT(passed, 1000);
}

TEST(OpSuite, SelectsByOpLayoutDtypeAndSizeClass) {
  OpSuiteOptions options;
  options.ops = {"mm"};
  options.layouts = {"transposed"};
  options.dtypes = {"fp64"};
  options.size_classes = {"small"};
  const auto rows = run_op_suite(plain_cpu_target(), options, nullptr);
  ASSERT_FALSE(rows.empty());
  for (const CheckResult& r : rows) {
    EXPECT_EQ(r.check, "mm");
    EXPECT_EQ(r.layout, "transposed");
    EXPECT_EQ(r.dtype, "fp64");
    EXPECT_EQ(r.size_class, "small");
    EXPECT_EQ(r.bug_class, BugClass::layout);
    EXPECT_EQ(r.outcome, Outcome::pass) << describe(r);
  }
  options.layouts = {"contiguous"};
  options.size_classes = {"boundary"};
  options.dtypes = {"fp32"};
  const auto boundary = run_op_suite(plain_cpu_target(), options, nullptr);
  ASSERT_FALSE(boundary.empty());
  for (const CheckResult& r : boundary) {
    EXPECT_EQ(r.size_class, "boundary");
    EXPECT_EQ(r.bug_class, BugClass::size);
  }
}

TEST(OpSuite, RejectsUnknownNamesListingTheChoices) {
  const auto message = [](OpSuiteOptions o) {
    try {
      validate(o);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  OpSuiteOptions op;
  op.ops = {"mmm"};
  EXPECT_NE(message(op).find("'mmm'"), std::string::npos);
  EXPECT_NE(message(op).find("multinomial"), std::string::npos);
  OpSuiteOptions layout;
  layout.layouts = {"diagonal"};
  EXPECT_NE(message(layout).find("out-strided"), std::string::npos);
  OpSuiteOptions dtype;
  dtype.dtypes = {"fp8"};
  EXPECT_NE(message(dtype).find("bf16"), std::string::npos);
  EXPECT_NE(message(dtype).find("bfloat16"), std::string::npos) << "the long names are accepted too";
  OpSuiteOptions size;
  size.size_classes = {"giant"};
  EXPECT_NE(message(size).find("huge"), std::string::npos);
  EXPECT_THROW(run_op_suite(plain_cpu_target(), op, nullptr), UsageError);
}

// One spelling: rows carry the short names whatever was asked for (the model level's fp32, bf16).
TEST(OpSuite, LongDtypeNamesAreAliasesAndRowsCarryTheShortOnes) {
  EXPECT_EQ(canonical_dtype("bfloat16"), std::optional<std::string>("bf16"));
  EXPECT_EQ(canonical_dtype("half"), std::optional<std::string>("fp16"));
  EXPECT_EQ(canonical_dtype("int64"), std::optional<std::string>("int64"));
  EXPECT_EQ(canonical_dtype("fp8"), std::nullopt);
  OpSuiteOptions options;
  options.ops = {"gelu"};
  options.layouts = {"contiguous"};
  options.dtypes = {"float32", "bfloat16", "float64"};
  std::set<std::string> dtypes;
  for (const CheckResult& r : run_op_suite(plain_cpu_target(), options, nullptr)) dtypes.insert(r.dtype);
  EXPECT_EQ(dtypes, (std::set<std::string>{"fp32", "bf16", "fp64"}));
  for (const OpCase& c : op_cases())
    for (const std::string& dtype : c.dtypes) EXPECT_TRUE(canonical_dtype(dtype) == dtype) << c.op << " " << dtype;
}

// A medium slice in --quick, and the default classes: rows of 64 elements miss long-row kernels.
TEST(OpSuite, QuickRunsTheMarkedMediumCasesAndTheDefaultRunsThemAll) {
  std::set<std::string> quick_medium, all_medium;
  for (const OpCase& c : op_cases())
    if (c.size_class == "medium") (c.quick ? quick_medium : all_medium).insert(c.op + " " + c.variant);
  EXPECT_TRUE(quick_medium.count("softmax rows of 12416")) << "BUGS S7's row length";
  OpSuiteOptions quick;
  quick.quick = true;
  quick.ops = {"softmax", "mm"};
  std::set<std::string> ran;
  for (const CheckResult& r : run_op_suite(plain_cpu_target(), quick, nullptr))
    if (r.size_class == "medium") ran.insert(r.check + " " + r.variant);
  EXPECT_TRUE(ran.count("softmax rows of 12416"));
  EXPECT_FALSE(ran.count("mm 1024 square")) << "the products are not in the quick slice";
  OpSuiteOptions defaults;
  defaults.ops = {"mm"};
  defaults.layouts = {"contiguous"};
  defaults.dtypes = {"fp32"};
  ran.clear();
  for (const CheckResult& r : run_op_suite(plain_cpu_target(), defaults, nullptr)) ran.insert(r.size_class);
  EXPECT_EQ(ran, (std::set<std::string>{"small", "boundary", "medium"}));
}

// On a CPU the float64 reference would otherwise run the integer kernel under test itself.
TEST(OpSuite, EveryIntegerOrBoolCaseHasAReferenceThroughAnotherKernel) {
  for (const OpCase& c : op_cases()) {
    const bool integers = std::any_of(c.dtypes.begin(), c.dtypes.end(),
                                      [](const std::string& d) { return !at::isFloatingType(scalar_type(d)); });
    if (integers) EXPECT_TRUE(static_cast<bool>(c.exact_reference)) << c.op << " " << c.variant << " " << c.size_class;
  }
}

TEST(OpSuite, CatalogueNamesEveryOpOnceWithASummary) {
  std::set<std::string> names;
  for (const OpInfo& info : op_catalogue()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.summary.empty()) << info.name;
  }
  for (const OpCase& c : op_cases()) EXPECT_TRUE(names.count(c.op)) << c.op;
  for (const RandomCase& c : random_cases()) EXPECT_TRUE(names.count(c.op)) << c.op;
  for (const HugeCase& c : huge_cases()) EXPECT_TRUE(names.count(c.op)) << c.op;
}

TEST(OpSuite, LayoutsHaveTheClaimedStridesAndTheSameValues) {
  const at::Tensor x = at::randn({6, 5}, at::kDouble);
  const at::Tensor t = in_layout(x, "transposed");
  EXPECT_EQ(t.strides(), (c10::IntArrayRef{1, 6}));
  const at::Tensor s = in_layout(x, "strided");
  EXPECT_EQ(s.strides(), (c10::IntArrayRef{10, 1}));
  const at::Tensor o = in_layout(x, "offset");
  EXPECT_EQ(o.storage_offset(), 5);
  EXPECT_TRUE(o.is_contiguous());
  for (const at::Tensor& v : {t, s, o}) EXPECT_TRUE(at::equal(v, x));
  const at::Tensor b = in_layout(broadcast_values(x), "broadcast");
  EXPECT_EQ(b.stride(0), 0);
  EXPECT_TRUE(at::equal(b, x[0].expand({6, 5})));

  const ViewWrite out = write_out_view({4, 3}, at::TensorOptions().dtype(at::kFloat), [](at::Tensor& view) {
    EXPECT_FALSE(view.is_contiguous());
    EXPECT_GT(view.storage_offset(), 0);
    view.copy_(at::ones({4, 3}));
  });
  EXPECT_EQ(out.neighbours_changed, 0);
  EXPECT_TRUE(at::equal(out.result, at::ones({4, 3})));
  const at::Tensor initial = at::arange(12, at::kFloat).view({4, 3});
  const ViewWrite inplace = write_inplace_view(initial, [&](at::Tensor& view) {
    EXPECT_EQ(view.stride(0), 6);
    EXPECT_TRUE(at::equal(view, initial));
    view.mul_(2);
  });
  EXPECT_EQ(inplace.neighbours_changed, 0);
  EXPECT_TRUE(at::equal(inplace.result, initial * 2));
}

TEST(OpSuite, NeighbourCheckSeesAWriteOutsideTheView) {
  // A writer that spills one element past the end of its view, as BUGS L7's b[1].zero_() did.
  const auto spill = [](at::Tensor& view) {
    view.fill_(1);
    at::Tensor flat = view.as_strided({view.numel() + 1}, {1}, view.storage_offset());
    flat.fill_(0);
  };
  EXPECT_GT(write_inplace_view(at::ones({3}), spill).neighbours_changed, 0);
  EXPECT_GT(write_out_view({4, 3}, at::TensorOptions().dtype(at::kFloat), spill).neighbours_changed, 0);
  // And one that writes into its view's rows as if the view were contiguous (BUGS L5/L6).
  const ViewWrite w = write_out_view({4, 3}, at::TensorOptions().dtype(at::kFloat), [](at::Tensor& view) {
    view.as_strided({12}, {1}, view.storage_offset()).copy_(at::arange(12, at::kFloat));
  });
  EXPECT_GT(w.neighbours_changed, 0);
  EXPECT_FALSE(w.first_changed.empty());
}

TEST(OpSuite, BitwiseEqualityTellsNaNPayloadsAndValuesApart) {
  const at::Tensor a = at::tensor({1.0, std::nan(""), 3.0});
  EXPECT_TRUE(bitwise_equal(a, a.clone()));
  EXPECT_FALSE(bitwise_equal(a, at::tensor({1.0, std::nan(""), 3.0000001})));
}

TEST(OpSuite, StatisticsPassHealthyDrawsAndFailWrongOnes) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor uniform = at::rand({1 << 20}, gen, at::kDouble);
  EXPECT_TRUE(check_moments(uniform, 0.5, 1.0 / 12, 1.0 / 80, 0, 1, 6).first);
  // A uniform on [0, 0.99): its mean is 0.495, 17 standard errors off.
  const auto shifted = check_moments(uniform * 0.99, 0.5, 1.0 / 12, 1.0 / 80, 0, 1, 6);
  EXPECT_FALSE(shifted.first);
  EXPECT_NE(shifted.second.find("standard errors"), std::string::npos);
  // Same mean, wrong spread: uniform on [0.05, 0.95).
  EXPECT_FALSE(check_moments(uniform * 0.9 + 0.05, 0.5, 1.0 / 12, 1.0 / 80, 0, 1, 6).first);
  // Outside the support.
  EXPECT_FALSE(check_moments(uniform + 0.01, 0.5, 1.0 / 12, 1.0 / 80, 0, 1, 6).first);

  at::Tensor probs = at::tensor({0.2, 0.0, 0.5, 0.3}, at::kDouble);
  const at::Tensor draws = at::multinomial(probs, 1 << 16, true, gen);
  EXPECT_TRUE(check_categories(draws, probs, 6).first);
  // A zero-probability category drawn once, INT64_MIN, and a wrong distribution all fail.
  at::Tensor zero_drawn = draws.clone();
  zero_drawn[5] = 1;
  EXPECT_NE(check_categories(zero_drawn, probs, 6).second.find("probability 0"), std::string::npos);
  at::Tensor int64_min = draws.clone();
  int64_min[0] = std::numeric_limits<int64_t>::min();
  EXPECT_FALSE(check_categories(int64_min, probs, 6).first);
  EXPECT_FALSE(check_categories(at::zeros({1 << 16}, at::kLong), probs, 6).first);
  const at::Tensor other = at::multinomial(at::tensor({0.3, 0.0, 0.4, 0.3}, at::kDouble), 1 << 16, true, gen);
  EXPECT_FALSE(check_categories(other, probs, 6).first);
}

TEST(OpSuite, RowsCarryTheCheckAndItsContext) {
  OpSuiteOptions options;
  options.ops = {"argmax"};
  options.dtypes = {"int8"};
  options.layouts = {"contiguous"};
  const auto rows = run_op_suite(plain_cpu_target(), options, nullptr);
  ASSERT_FALSE(rows.empty());
  const CheckResult& r = rows.front();
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.level, Level::op);
  EXPECT_EQ(r.pass, "forward");
  EXPECT_EQ(r.bug_class, BugClass::op);
  EXPECT_EQ(r.outcome, Outcome::pass) << describe(r);
  EXPECT_NE(r.tolerance.find("exact"), std::string::npos);
  EXPECT_TRUE(r.elements.has_value());
  EXPECT_EQ(r.reproducible, std::optional<bool>(true));
}

}  // namespace
}  // namespace mlspeed::verify
