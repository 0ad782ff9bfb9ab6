// The fault-injection mechanism itself: a fault changes what the device under test computes
// inside a DeviceScope and nothing outside it, and the scope sees CPU-fallback warnings. (That
// `mlspeed verify` catches every fault is asserted in verify_faults_cpu_test.cpp.)
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <limits>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/device/device.h"
#include "mlspeed/verify/faults.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {
namespace {

Target cpu_target(const std::string& fault = "") {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  return make_target(cpu, fault);
}

TEST(Faults, EachHasANameClassAndDescriptionAndTheNamesAreUnique) {
  std::set<std::string> names;
  for (const Fault& f : faults()) {
    EXPECT_FALSE(f.name.empty());
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(find_fault(f.name), &f);
  }
  // Every class of docs/silent-bugs.md has at least one fault.
  std::set<BugClass> classes;
  for (const Fault& f : faults()) classes.insert(f.bug_class);
  for (BugClass c : {BugClass::layout, BugClass::size, BugClass::op, BugClass::precision, BugClass::random,
                     BugClass::training})
    EXPECT_TRUE(classes.count(c)) << name(c);
}

TEST(Faults, AnUnknownFaultIsAUsageErrorListingTheKnownOnes) {
  try {
    cpu_target("no-such-fault");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("square-mm-transposed"), std::string::npos) << e.what();
  }
}

TEST(Faults, TheFaultActsOnlyInsideTheScope) {
  const at::Tensor a = at::randn({8, 8}, at::kDouble), b = at::randn({8, 8}, at::kDouble);
  const at::Tensor right = at::mm(a, b);
  const Target target = cpu_target("square-mm-transposed");
  at::Tensor inside, rectangular;
  {
    DeviceScope scope(target);
    inside = at::mm(a, b);
    rectangular = at::mm(a.narrow(0, 0, 4), b);  // not square: untouched
  }
  EXPECT_TRUE(at::allclose(inside, at::mm(a, b.t())));
  EXPECT_FALSE(at::allclose(inside, right));
  EXPECT_TRUE(at::allclose(rectangular, right.narrow(0, 0, 4)));
  EXPECT_TRUE(at::equal(at::mm(a, b), right)) << "the fault outlived its scope";
}

TEST(Faults, AHealthyTargetComputesNormally) {
  const at::Tensor a = at::randn({8, 8}, at::kDouble), b = at::randn({8, 8}, at::kDouble);
  DeviceScope scope(cpu_target());
  EXPECT_TRUE(at::equal(at::mm(a, b), at::mm(a, b)));
  EXPECT_TRUE(scope.fallbacks().empty());
}

TEST(Faults, ABackwardFaultLeavesTheForwardRightAndBreaksTheGradient) {
  const at::Tensor x = at::randn({6, 16}, at::kDouble);
  auto grad_of = [&](const Target* target) {
    const at::Tensor leaf = x.clone().requires_grad_(true);
    std::optional<DeviceScope> scope;
    if (target) scope.emplace(*target);
    const at::Tensor y = at::layer_norm(leaf, {16});
    (y * at::arange(96, at::kDouble).view({6, 16})).sum().backward();
    return std::make_pair(y.detach(), leaf.grad());
  };
  const Target target = cpu_target("layer-norm-backward-zero-rows");
  const auto [y_ok, g_ok] = grad_of(nullptr);
  const auto [y_bad, g_bad] = grad_of(&target);
  EXPECT_TRUE(at::allclose(y_ok, y_bad));
  EXPECT_FALSE(at::allclose(g_ok, g_bad));
  EXPECT_TRUE(at::equal(g_bad[1], at::zeros({16}, at::kDouble)));
}

TEST(Faults, TheScopeCatchesCpuFallbackWarningsEveryTime) {
  const Target target = cpu_target("gelu-cpu-fallback");
  for (int i = 0; i < 2; ++i) {  // TORCH_WARN_ONCE-style warnings must be seen by every check
    DeviceScope scope(target);
    (void)at::gelu(at::randn({4}));
    ASSERT_EQ(scope.fallbacks().size(), 1u);
    EXPECT_TRUE(is_fallback_warning(scope.fallbacks()[0]));
  }
  DeviceScope healthy(cpu_target());
  (void)at::gelu(at::randn({4}));
  EXPECT_TRUE(healthy.fallbacks().empty());
}

TEST(Faults, FallbackWarningsAreRecognisedInLibTorchsWording) {
  EXPECT_TRUE(is_fallback_warning("The operator 'aten::_linalg_solve_ex.result' is not currently supported on "
                                  "the MPS backend and will fall back to run on the CPU. This may have "
                                  "performance implications."));
  EXPECT_FALSE(is_fallback_warning("TypedStorage is deprecated"));
}

TEST(Faults, IntegerFaultsBreakExactOps) {
  const at::Tensor ints = at::arange(1, 9, at::kLong);
  DeviceScope scope(cpu_target("cumsum-int-identity"));
  EXPECT_TRUE(at::equal(at::cumsum(ints, 0), ints));
  const at::Tensor floats = at::arange(1, 9, at::kDouble);
  EXPECT_FALSE(at::equal(at::cumsum(floats, 0), floats)) << "float cumsum should be left alone";
}

TEST(Faults, TheOptimizerFaultDropsTheInPlaceUpdate) {
  std::vector<at::Tensor> params{at::ones({3})}, a{at::ones({3})}, b{at::ones({3})};
  DeviceScope scope(cpu_target("optimizer-update-dropped"));
  at::_foreach_addcdiv_(params, a, b, 0.5);
  EXPECT_TRUE(at::equal(params[0], at::ones({3})));
}

}  // namespace
}  // namespace mlspeed::verify
