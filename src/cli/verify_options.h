// The options of `mlspeed verify`, declared once in its table (option_table.h). The op-level and
// model-level choices parse straight into the suites' own option structs; verify_command checks
// them against the catalogues before anything runs.
#pragma once

#include <string>
#include <vector>

#include "cli/option_table.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/results/formats.h"
#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/op_suite.h"

namespace mlspeed::cli {

struct VerifyOptions {
  std::vector<std::string> devices;  // ids as typed; checked against the machine later
  bool op_level = true, model_level = true;
  verify::OpSuiteOptions ops;
  verify::ModelCheckOptions models;
  std::string fault;                       // --inject-fault: the self-test
  bool strict = false;                     // known LibTorch issues fail the verdict too
  bool deterministic = false;              // deterministic algorithms (and cuBLAS workspace config)
  bool full_precision_reductions = false;  // cuBLAS sums float16/bfloat16 products in float32
  KernelSet kernels = KernelSet::mlspeed;  // --kernels libtorch: check LibTorch's ops alone
  bool list = false;
  Format format = Format::md;
  std::string db;  // empty: the default path
  bool no_db = false;
  std::string label;  // --label: the user's name for the stored run; empty for none
};

const OptionTable<VerifyOptions>& verify_option_table();
VerifyOptions parse_verify_options(const Given& given);

}  // namespace mlspeed::cli
