// The quantised-Llama model check (quant_model_check.h): it passes on a healthy CPU across seeds
// and formats, in fp32 and bf16, and each fault of quant_faults.h fails its forward and decode rows
// in every file type that holds a format the fault concerns, by a wide margin (printed).
#include <gtest/gtest.h>

#include <iostream>

#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/quant_faults.h"
#include "mlspeed/verify/quant_model_check.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {
namespace {

Target quant_model_cpu_target(const std::string& fault = "") {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  return make_target(cpu, fault);
}

std::vector<CheckResult> quant_rows(const Target& target, Precision precision, uint64_t seed = 0) {
  ModelCheckOptions o;
  o.seed = seed;
  std::vector<CheckResult> rows;
  run_quant_model_checks(target, o, precision, [&](CheckResult row) { rows.push_back(std::move(row)); });
  return rows;
}

std::string quant_model_row_text(const CheckResult& r) { return r.variant + " " + r.dtype + " " + r.pass + ": " + r.message; }

TEST(QuantModelCheck, PassesOnAHealthyCpuAcrossSeedsInFp32AndBf16) {
  for (uint64_t seed = 0; seed < 4; ++seed)
    for (Precision precision : {Precision::fp32, Precision::bf16}) {
      const std::vector<CheckResult> rows = quant_rows(quant_model_cpu_target(), precision, seed);
      ASSERT_EQ(rows.size(), 8u) << "forward and decode of q8_0, q4_0, q4_k_m, q6_k";
      for (const CheckResult& r : rows) {
        EXPECT_EQ(r.outcome, Outcome::pass) << "seed " << seed << ": " << quant_model_row_text(r);
        EXPECT_EQ(r.check, kQuantModelWorkload);
        EXPECT_EQ(r.level, Level::model);
      }
    }
}

// File types holding a format the fault misreads (q4_0's and q4_k_m's output is Q6_K; q8_0's is Q8_0).
bool model_fault_concerns(const std::string& fault, const std::string& file_type) {
  if (fault == "quant-nibbles-swapped") return file_type == "q4_0" || file_type == "q4_k_m";
  if (fault == "quant-kquant-subblock-scale-shifted") return file_type != "q8_0";
  return true;
}

TEST(QuantModelCheck, EachFaultFailsForwardAndDecodeWithAWideMargin) {
  for (const BlocksFaultImpl& impl : blocks_faults()) {
    const std::string& fault = impl.fault.name;
    for (const CheckResult& r : quant_rows(quant_model_cpu_target(fault), Precision::fp32)) {
      if (!model_fault_concerns(fault, r.variant)) {
        EXPECT_EQ(r.outcome, Outcome::pass) << fault << ": " << quant_model_row_text(r);
        continue;
      }
      ASSERT_EQ(r.outcome, Outcome::fail) << fault << " not caught: " << quant_model_row_text(r);
      std::cout << fault << " " << r.variant << " " << r.pass << ": " << *r.error_ratio << " x the tolerance, "
                << 100 * *r.mismatch_fraction << "% of logits off\n";
      // decode: the int8 kernels' tolerance is widened by the model's sensitivity (3 x its change
      // at 1/127), so its margin is the smaller one.
      EXPECT_GE(*r.error_ratio, r.pass == "forward" ? 100.0 : 5.0) << fault << ": " << quant_model_row_text(r);
      EXPECT_GT(*r.mismatch_fraction, 0.5) << fault << ": " << quant_model_row_text(r);
    }
  }
}

}  // namespace
}  // namespace mlspeed::verify
