// The TF32 flags live in LibTorch's global context, which a CPU-only LibTorch also keeps: a scope
// sets them and gives back exactly what was in force before, each flag on its own.
#include "mlspeed/device/precision_flags.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlspeed {
namespace {

// Restores the process's flags whatever a test leaves behind.
class Tf32ScopeTest : public ::testing::Test {
 protected:
  void TearDown() override { set_tf32_flags(initial_); }
  Tf32Flags initial_ = tf32_flags();
};

TEST_F(Tf32ScopeTest, SetsBothFlagsForItsLifeAndRestoresEachAsItWas) {
  for (const Tf32Flags before : {Tf32Flags{false, false}, Tf32Flags{false, true}, Tf32Flags{true, false},
                                 Tf32Flags{true, true}}) {
    for (bool allow : {false, true}) {
      set_tf32_flags(before);
      {
        Tf32Scope scope(allow);
        EXPECT_EQ(tf32_flags(), (Tf32Flags{allow, allow}));
      }
      EXPECT_EQ(tf32_flags(), before) << "allow " << allow;
    }
  }
}

TEST_F(Tf32ScopeTest, APrecisionAllowsTf32OnlyForTf32) {
  set_tf32_flags({true, true});
  {
    Tf32Scope fp32(Precision::fp32);
    EXPECT_EQ(tf32_flags(), (Tf32Flags{false, false})) << "fp32 means full float32";
    {
      Tf32Scope tf32(Precision::tf32);
      EXPECT_EQ(tf32_flags(), (Tf32Flags{true, true}));
    }
    EXPECT_EQ(tf32_flags(), (Tf32Flags{false, false})) << "nested scopes unwind in order";
  }
  EXPECT_EQ(tf32_flags(), (Tf32Flags{true, true}));
}

TEST_F(Tf32ScopeTest, RestoresWhenAnExceptionLeavesTheScope) {
  set_tf32_flags({false, true});  // PyTorch's defaults
  try {
    Tf32Scope scope(Precision::tf32);
    throw std::runtime_error("a configuration failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(tf32_flags(), (Tf32Flags{false, true}));
}

}  // namespace
}  // namespace mlspeed
