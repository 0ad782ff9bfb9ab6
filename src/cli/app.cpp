#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/host.h"

namespace mlspeed::cli {
namespace {

std::string command_line(int argc, char** argv) {
  std::string line = "mlspeed";
  for (int i = 1; i < argc; ++i) line += std::string(" ") + argv[i];
  return line;
}

// Declares every option of `table` on `command`; after parsing, `given` holds what was typed.
template <class Options> void declare(CLI::App& command, const OptionTable<Options>& table, Given& given) {
  for (const auto& spec : table) {
    const std::string key = spec.long_name();
    if (spec.value_name.empty()) {
      command.add_flag_callback(spec.flags, [&given, key] { given[key] = ""; }, spec.help);
      continue;
    }
    const std::string shown = spec.default_shown();
    if (spec.takes_many()) {  // "RUN...": every remaining argument
      command
          .add_option_function<std::vector<std::string>>(
              spec.flags,
              [&given, key](const std::vector<std::string>& values) {
                given[key] = join(values, std::string(1, kManySeparator));
              },
              spec.help + (shown.empty() ? "" : " [default: " + shown + "]"))
          ->type_name(spec.value_name.substr(0, spec.value_name.size() - 3))  // CLI11 adds the "..."
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
      continue;
    }
    // Taken as a list so that a repeated option gets our message, not CLI11's.
    command
        .add_option_function<std::vector<std::string>>(
            spec.flags,
            [&given, key, list = spec.takes_list()](const std::vector<std::string>& values) {
              if (values.size() > 1)
                throw UsageError("--" + key + " was given " + std::to_string(values.size()) + " times; give it once" +
                                 (list ? ", with a comma list (e.g. --" + key + " " + values[0] + "," + values[1] + ")"
                                       : ""));
              given[key] = values.front();
            },
            spec.help + (shown.empty() ? "" : " [default: " + shown + "]"))
        ->type_name(spec.value_name)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->expected(1)
        ->allow_extra_args(false);  // one value an option: `-o csv 12` leaves 12 to the positional
  }
}

// Every command and its options on one CLI11 app; parse() fills an Invocation.
class CommandLine {
 public:
  CommandLine();
  Invocation parse(int argc, char** argv);
  int exit(const CLI::Error& e) { return app_.exit(e); }
  // The command being parsed, for messages ("mlspeed run: ..."); empty before it is known.
  const std::string& chosen() const { return chosen_; }

 private:
  template <class Options>
  CLI::App* add(const char* name, const char* description, const OptionTable<Options>& table, Given& given,
                const char* footer) {
    CLI::App* command = app_.add_subcommand(name, description);
    declare(*command, table, given);
    if (*footer) command->footer(footer);
    return command;
  }

  CLI::App app_{"mlspeed: how fast is this machine for machine learning, and can its numbers be trusted?"};
  Given run_, verify_, generate_, show_, report_, compare_, history_, export_, import_;
  bool json_ = false;
  std::string chosen_;
};

CommandLine::CommandLine() {
  app_.require_subcommand(1);
  app_.set_version_flag("--version", collect_host_facts().mlspeed_version);
  app_.add_subcommand("devices", "every device LibTorch can reach, with hardware and software facts")
      ->add_flag("--json", json_, "print JSON");
  app_.add_subcommand("workloads", "the workload catalogue with parameter counts and FLOPs")
      ->add_flag("--json", json_, "print JSON");
  add("run", "time workloads x devices x dtypes x batch sizes (comma lists; the run is their product)",
      run_option_table(), run_,
      "Exit status: 0 when every configuration was measured or failed as oom/unsupported, 1 if any ended in error, "
      "2 for bad input, 130 when interrupted (completed rows are kept).");
  add("generate",
      "greedy generation from a prompt (token ids, or text with GPT-2's vocabulary): the \"!!!!\" check of the M3 "
      "Max review",
      generate_option_table(), generate_,
      "Exit status: 0 when generated (warnings included), 2 for bad input or a bad file, 1 if the device failed.");
  add("verify",
      "check every device's numbers against a float64 CPU reference: ops in every layout, dtype and size class, "
      "and every workload's forward, gradients, training and generation",
      verify_option_table(), verify_,
      "Exit status: 0 when every check passed (skipped, not-tested and known-issue checks are reported, not "
      "failures, unless --strict), 1 when any check failed or errored, 2 for bad input, 130 when interrupted "
      "(completed checks are kept).");
  add("show", "print a run: stored here, an exported file or a reference set", show_option_table(), show_, "");
  add("history", "the stored runs, newest first, with the ids and labels that compare, show and export take",
      history_option_table(), history_, "Exit status: 0 (also when no run matches), 2 for bad input.");
  add("export", "write one run (its record, full context and rows) as a JSON file to compare or import elsewhere",
      export_option_table(), export_, "Exit status: 0 when written, 2 for bad input or an unknown run.");
  add("import",
      "store a run exported on another machine (or `show -o json|jsonl` output) in the results database, keeping "
      "its context",
      import_option_table(), import_, "Exit status: 0 when stored (the new run id is printed), 2 for bad input.");
  add("compare",
      "runs side by side (ids, last, label:NAME, exported files, ref:NAME published figures), or the devices of one "
      "run: medians, speedups and a verdict from the samples (Mann-Whitney U test and a minimum effect)",
      compare_option_table(), compare_,
      "Exit status: 0 when compared, 1 with --fail-if-slower PCT when any configuration is slower beyond noise by "
      "more than PCT percent, 2 for bad input.");
  add("report",
      "runs side by side as a page of charts (-o report.html, opens offline) or a markdown summary (-o summary.md)",
      report_option_table(), report_, "Exit status: 0 when the report was written, 2 for bad input.");
}

Invocation CommandLine::parse(int argc, char** argv) {
  // CLI11 would call an unknown command "an extra argument"; name it and the commands instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app_.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end())
      throw UsageError("unknown command '" + std::string(argv[1]) + "'; commands: " + join(names, ", "));
  }
  app_.parse(argc, argv);
  Invocation invocation;
  invocation.command = chosen_ = app_.get_subcommands().front()->get_name();
  invocation.command_line = command_line(argc, argv);
  invocation.json = json_;
  if (chosen_ == "run") invocation.run = parse_run_options(run_);
  if (chosen_ == "verify") invocation.verify = parse_verify_options(verify_);
  if (chosen_ == "generate") invocation.generate = parse_generate_options(generate_);
  if (chosen_ == "show") invocation.show = parse_show_options(show_);
  if (chosen_ == "history") invocation.history = parse_history_options(history_);
  if (chosen_ == "export") invocation.export_run = parse_export_options(export_);
  if (chosen_ == "import") invocation.import_run = parse_import_options(import_);
  if (chosen_ == "compare") invocation.compare = parse_compare_options(compare_);
  if (chosen_ == "report") invocation.report = parse_report_options(report_);
  return invocation;
}

int dispatch(const Invocation& i) {
  if (i.command == "devices") return devices_command(i.json);
  if (i.command == "workloads") return workloads_command(i.json);
  if (i.command == "run") return run_command(i.run, i.command_line);
  if (i.command == "generate") return generate_command(i.generate);
  if (i.command == "verify") return verify_command(i.verify, i.command_line);
  if (i.command == "history") return history_command(i.history);
  if (i.command == "export") return export_command(i.export_run);
  if (i.command == "import") return import_command(i.import_run, i.command_line);
  if (i.command == "compare") return compare_command(i.compare);
  if (i.command == "report") return report_command(i.report);
  return show_command(i.show);
}

}  // namespace

Invocation parse_arguments(int argc, char** argv) { return CommandLine().parse(argc, argv); }

int run_app(int argc, char** argv) {
  CommandLine command_line;
  try {
    const Invocation invocation = command_line.parse(argc, argv);
    return dispatch(invocation);
  } catch (const CLI::CallForHelp& e) {
    return command_line.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return command_line.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return command_line.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mlspeed: " << e.what() << " (see 'mlspeed --help' or 'mlspeed <command> --help')\n";
    return 2;
  } catch (const UsageError& e) {
    const std::string& chosen = command_line.chosen();
    std::cerr << "mlspeed" << (chosen.empty() ? "" : " " + chosen) << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mlspeed::cli
