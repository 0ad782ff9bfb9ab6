// What each precision means, read from the one table: names, aliases, dtypes, bytes.
#include "mlspeed/core/precision.h"

#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"

namespace mlspeed {
namespace {

TEST(Precision, EachNameParsesBackToItself) {
  for (Precision p : kAllPrecisions) EXPECT_EQ(parse_precision(name(p)), p) << name(p);
  EXPECT_EQ(precision_choices(), "fp32, tf32, fp16, bf16");
}

TEST(Precision, LongNamesAreAliasesOfTheOneSpelling) {
  EXPECT_EQ(parse_precision("float32"), Precision::fp32);
  EXPECT_EQ(parse_precision("float16"), Precision::fp16);
  EXPECT_EQ(parse_precision("half"), Precision::fp16);
  EXPECT_EQ(parse_precision("bfloat16"), Precision::bf16);
  for (const char* unknown : {"", "tensorfloat32", "float", "fp8", "BF16", "float64", " fp32"})
    EXPECT_FALSE(parse_precision(unknown)) << "'" << unknown << "'";
}

TEST(Precision, AListTakesAliasesAndGivesTheNames) {
  EXPECT_EQ(parse_precision_list("fp32,bfloat16,half,tf32", "--dtypes"),
            (std::vector<std::string>{"fp32", "bf16", "fp16", "tf32"}));
  try {
    parse_precision_list("fp32,fp8", "--dtypes");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--dtypes: unknown value 'fp8'; choose from: fp32, tf32, fp16, bf16");
  }
  try {
    parse_precision_list("bf16,bfloat16", "--model-dtypes");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--model-dtypes: 'bfloat16' is bf16, already listed");
  }
  EXPECT_THROW(parse_precision_list("fp32,fp32", "--dtypes"), UsageError);
}

TEST(Precision, InferenceCastsTheModelToTheStorageDtype) {
  EXPECT_EQ(model_dtype(Precision::fp32), c10::ScalarType::Float);
  EXPECT_EQ(model_dtype(Precision::tf32), c10::ScalarType::Float);
  EXPECT_EQ(model_dtype(Precision::fp16), c10::ScalarType::Half);
  EXPECT_EQ(model_dtype(Precision::bf16), c10::ScalarType::BFloat16);
}

TEST(Precision, TrainingAutocastsOnlyTheHalfPrecisionsAndScalesOnlyFloat16) {
  EXPECT_EQ(autocast_dtype(Precision::fp32), std::nullopt);
  EXPECT_EQ(autocast_dtype(Precision::tf32), std::nullopt);
  EXPECT_EQ(autocast_dtype(Precision::fp16), c10::ScalarType::Half);
  EXPECT_EQ(autocast_dtype(Precision::bf16), c10::ScalarType::BFloat16);
  EXPECT_FALSE(scales_loss(Precision::fp32));
  EXPECT_FALSE(scales_loss(Precision::tf32));
  EXPECT_TRUE(scales_loss(Precision::fp16));
  EXPECT_FALSE(scales_loss(Precision::bf16));
}

TEST(Precision, OnlyTf32AllowsTf32) {
  for (Precision p : kAllPrecisions) EXPECT_EQ(allows_tf32(p), p == Precision::tf32) << name(p);
}

TEST(Precision, BytesPerElementAreTheModelDtypesSize) {
  EXPECT_EQ(bytes_per_element(Precision::fp32), 4);
  EXPECT_EQ(bytes_per_element(Precision::tf32), 4);
  EXPECT_EQ(bytes_per_element(Precision::fp16), 2);
  EXPECT_EQ(bytes_per_element(Precision::bf16), 2);
}

}  // namespace
}  // namespace mlspeed
