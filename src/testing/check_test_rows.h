// Checks for the verification output tests: one with a distinct, non-default value in every field
// (so a field dropped or swapped anywhere shows up), and rows of every outcome for the verdict.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "testing/results_test_rows.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed::testing {

// Every field differs from a default CheckResult (a test checks this stays true as fields are added).
inline verify::CheckResult full_check() {
  verify::CheckResult c;
  c.run_id = 9;
  c.timestamp = "2026-01-02T03:04:07Z";
  c.device = "cuda:1";
  c.level = verify::Level::model;
  c.check = "mm";
  c.variant = "square";
  c.layout = "transposed";
  c.dtype = "fp16";
  c.shape = "4096x4096";
  c.size_class = "boundary";
  c.pass = "backward";
  c.bug_class = verify::BugClass::layout;
  c.outcome = verify::Outcome::fail;
  c.message = "3.1% of elements (1234 of 40000) off by up to 0.42, first at [3, 17]; \"quoted\", and\nbroken";
  c.tolerance = "fp16 reduction over K=4096: rtol 0.04, atol 0.04";
  c.elements = 40000;
  c.mismatched = 1234;
  c.mismatch_fraction = 0.03085;
  c.max_abs_error = 0.42;
  c.max_rel_error = 1.0 / 3;
  c.error_ratio = 2100;
  c.first_bad_index = "[3, 17]";
  c.nan_output = 12;
  c.inf_output = 3;
  c.zero_output = 5;
  c.nan_reference = 1;
  c.inf_reference = 2;
  c.zero_reference = 4;
  c.reproducible = false;
  c.fallback = "The operator 'aten::cumsum' is not currently implemented for the MPS device";
  c.seconds = 0.125;
  c.fault = "transposed-matmul";
  c.known_issue = "bf16-norm-weight-grad-cpu";
  c.device_facts = sample_gpu();
  c.host = sample_host();
  c.tf32 = true;
  c.deterministic = true;
  c.cudnn_benchmark = true;
  c.fp16_reduced_reduction = true;
  c.bf16_reduced_reduction = false;
  return c;
}

// A check with the given identity and outcome and nothing else set.
inline verify::CheckResult check_row(const std::string& device, const std::string& check, verify::Outcome outcome,
                                     const std::string& message = "") {
  verify::CheckResult c;
  c.device = device;
  c.check = check;
  c.dtype = "float32";
  c.layout = "contiguous";
  c.shape = "64x64";
  c.pass = "forward";
  c.outcome = outcome;
  c.message = message;
  return c;
}

inline void expect_same_check(const verify::CheckResult& expected, const verify::CheckResult& actual,
                              const std::string& where) {
  for (const verify::CheckField& f : verify::check_fields()) {
    const Value want = f.get(expected);
    const Value got = f.get(actual);
    EXPECT_TRUE(want == got) << where << ", field " << f.name << ": expected '" << value_to_text(want) << "', got '"
                             << value_to_text(got) << "'";
  }
}

}  // namespace mlspeed::testing
