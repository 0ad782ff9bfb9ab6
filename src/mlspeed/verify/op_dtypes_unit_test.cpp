#include "mlspeed/verify/op_dtypes.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlspeed::verify {
namespace {

TEST(OpDtypes, TheModelLevelsPrecisionsFirstThenFloat64AndTheIntegers) {
  EXPECT_EQ(dtype_names(), (std::vector<std::string>{"fp32", "tf32", "fp16", "bf16", "fp64", "int8", "uint8", "int16",
                                                     "int32", "int64", "bool"}));
  EXPECT_EQ(dtype_aliases(), (std::vector<std::pair<std::string, std::string>>{
                                 {"float32", "fp32"}, {"float16", "fp16"}, {"half", "fp16"}, {"bfloat16", "bf16"},
                                 {"float64", "fp64"}}));
  EXPECT_EQ(canonical_dtype("half"), std::optional<std::string>("fp16"));
  EXPECT_EQ(canonical_dtype("tf32"), std::optional<std::string>("tf32"));
  EXPECT_EQ(canonical_dtype("float8"), std::nullopt);
  EXPECT_EQ(canonical_dtype(""), std::nullopt);
}

TEST(OpDtypes, EachNameHasOneStorageAndOnlyTf32AllowsTf32) {
  EXPECT_EQ(scalar_type("tf32"), c10::ScalarType::Float);
  EXPECT_EQ(scalar_type("bf16"), c10::ScalarType::BFloat16);
  EXPECT_EQ(scalar_type("uint8"), c10::ScalarType::Byte);
  EXPECT_THROW(scalar_type("fp8"), std::invalid_argument);
  for (const std::string& name : dtype_names()) {
    EXPECT_EQ(uses_tf32(name), name == "tf32") << name;
    EXPECT_EQ(op_dtype_name(scalar_type(name), uses_tf32(name)), name) << "round trip";
  }
  EXPECT_EQ(op_dtype_name(c10::ScalarType::Half, /*tf32=*/true), "fp16") << "TF32 concerns float32 alone";
  EXPECT_EQ(op_dtype_name(c10::ScalarType::ComplexFloat, false), "ComplexFloat");
}

// The long names the op level drew its inputs under before it took the model level's names: a
// stored run's --seed must keep drawing the same inputs.
TEST(OpDtypes, SeedsKeepTheLongNamesTheyWereDrawnUnder) {
  EXPECT_EQ(seed_name("fp32"), "float32");
  EXPECT_EQ(seed_name("fp16"), "float16");
  EXPECT_EQ(seed_name("bf16"), "bfloat16");
  EXPECT_EQ(seed_name("fp64"), "float64");
  EXPECT_EQ(seed_name("tf32"), "tf32");
  EXPECT_EQ(seed_name("int64"), "int64");
}

TEST(OpDtypes, MessagesSpellADtypeEveryWayItAppears) {
  EXPECT_EQ(dtype_spellings("bf16"), (std::vector<std::string>{"bf16", "bfloat16", "BFloat16"}));
  EXPECT_EQ(dtype_spellings("int8"), (std::vector<std::string>{"int8", "Char"}));
  EXPECT_EQ(dtype_spellings("fp8"), (std::vector<std::string>{"fp8"}));
}

}  // namespace
}  // namespace mlspeed::verify
