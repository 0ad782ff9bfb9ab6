// The options several commands share, declared once here: each command's table takes them from
// these functions, so that --db, -o/--format, --output, --label, --no-db and --wide mean one thing
// and say the same in every command's --help (option_tables_unit_test.cpp checks the rest).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "cli/option_table.h"
#include "cli/option_values.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

// --db FILE: the results database (Options::db).
template <class Options> OptionSpec<Options> db_option() {
  return {"--db", "FILE", "results database file", std::nullopt, kDbDefaultHelp,
          [](Options& o, const std::string& t) { o.db = db_path(t); }};
}

// --no-db: do not store (Options::no_db).
template <class Options> OptionSpec<Options> no_db_option(std::string help) {
  return {"--no-db", "", std::move(help), std::nullopt, "", [](Options& o, const std::string&) { o.no_db = true; }};
}

// -o, --format FORMAT: how the output is printed (Options::format), one of `Allowed`; md by default.
template <class Options, Format... Allowed> OptionSpec<Options> format_option() {
  std::vector<std::string> names;
  for (Format f : {Allowed...}) names.push_back(name(f));
  return {"-o,--format", "FORMAT", "output: " + join(names, ", "), "md", "",
          [](Options& o, const std::string& t) { o.format = parse_format_option(t, {Allowed...}); }};
}

// --output FILE: the file a command writes (Options::output), and `-o`, which is the output format
// everywhere in mlspeed, refused with the right spelling.
template <class Options> OptionSpec<Options> output_option(std::string help, std::string default_help) {
  return {"--output", "FILE", std::move(help), std::nullopt, std::move(default_help),
          [](Options& o, const std::string& t) {
            if (t.empty()) throw UsageError("--output: the path is empty");
            o.output = t;
          }};
}
template <class Options> OptionSpec<Options> output_not_o_option() {
  return {"-o", "FILE", "", std::nullopt, "",
          [](Options&, const std::string& t) {
            throw UsageError("-o names an output format in mlspeed's commands; give the file as --output " +
                             printable(t));
          },
          /*hidden=*/true};
}

// --label TEXT: the user's name for a run (Options::label).
template <class Options> OptionSpec<Options> label_option(std::string help, std::string default_help) {
  return {"--label", "TEXT", std::move(help), std::nullopt, std::move(default_help),
          [](Options& o, const std::string& t) { o.label = run_label(t); }};
}

// --wide: the md table with every column (Options::wide).
template <class Options> OptionSpec<Options> wide_option() {
  return {"--wide", "", kWideHelp, std::nullopt, "", [](Options& o, const std::string&) { o.wide = true; }};
}

// --kernels mlspeed|libtorch: whose kernels run (Options::kernels).
template <class Options> OptionSpec<Options> kernels_option() {
  return {"--kernels", "mlspeed|libtorch",
          "mlspeed: its own kernels where it has them (the quantised-weight products on the CPU and CUDA; on CUDA "
          "the fused decode steps of Llama and GPT-2, GPT-2's fused cross-entropy, GPT-2's and nanoGPT's fused "
          "residual LayerNorm, the UNet's GroupNorm + SiLU, ResNet's training BatchNorm + ReLU), LibTorch's for the "
          "rest; libtorch: LibTorch's ops alone (quantised weights dequantised for LibTorch's matrix product), to "
          "compare devices on LibTorch's kernels or mlspeed's kernels against them",
          "mlspeed", "",
          [](Options& o, const std::string& t) {
            const std::optional<KernelSet> k = parse_kernel_set(t);
            if (!k) throw UsageError("--kernels: unknown value '" + t + "'; choose from: mlspeed, libtorch");
            o.kernels = *k;
          }};
}

}  // namespace mlspeed::cli
