// Every fault of faults.h injected into the CPU as the device under test: `verify` must flag it
// with the right check, bug class and sentence, and pass the same checks on the healthy CPU.
#include "testing/fault_cases.h"

#include <set>

namespace mlspeed::verify::testing {
namespace {

DeviceFacts cpu_facts() {
  DeviceFacts facts;
  facts.id = "cpu";
  facts.kind = "cpu";
  return facts;
}

class FaultIsCaught : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultIsCaught, OnTheCpu) { expect_caught(GetParam(), cpu_facts()); }

INSTANTIATE_TEST_SUITE_P(Verify, FaultIsCaught, ::testing::ValuesIn(fault_cases()), case_label);

TEST(FaultCases, EveryFaultHasACase) {
  std::set<std::string> covered;
  for (const FaultCase& c : fault_cases()) covered.insert(c.fault);
  for (const Fault& f : faults()) EXPECT_TRUE(covered.count(f.name)) << f.name << " is never shown to be caught";
}

}  // namespace
}  // namespace mlspeed::verify::testing
