#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <map>

#include "cli/commands.h"
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

// Declares every option of the table on `run`; after parsing, `given` holds what was typed.
void add_run_options(CLI::App& run, std::map<std::string, std::string>& given) {
  for (const auto& spec : run_option_table()) {
    const std::string key = spec.long_name();
    if (spec.value_name.empty()) {
      run.add_flag_callback(spec.flags, [&given, key] { given[key] = ""; }, spec.help);
    } else {
      // Taken as a list so that a repeated option gets our message, not CLI11's.
      run.add_option_function<std::vector<std::string>>(
             spec.flags,
             [&given, key, takes_list = spec.value_name == "LIST"](const std::vector<std::string>& values) {
               if (values.size() > 1)
                 throw UsageError("--" + key + " was given " + std::to_string(values.size()) + " times; give it once" +
                                  (takes_list ? ", with a comma list (e.g. --" + key + " " + values[0] +
                                                              "," + values[1] + ")"
                                                        : ""));
               given[key] = values.front();
             },
             spec.help + " [default: " + spec.default_text + "]")
          ->type_name(spec.value_name)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->expected(1);
    }
  }
}

}  // namespace

int run_app(int argc, char** argv) {
  CLI::App app{"mlspeed: how fast is this machine for machine learning, and can its numbers be trusted?"};
  app.require_subcommand(1);
  app.set_version_flag("--version", collect_host_facts().mlspeed_version);

  bool json = false;
  CLI::App* devices = app.add_subcommand("devices", "every device LibTorch can reach, with hardware and software facts");
  devices->add_flag("--json", json, "print JSON");
  CLI::App* workloads = app.add_subcommand("workloads", "the workload catalogue with parameter counts and FLOPs");
  workloads->add_flag("--json", json, "print JSON");

  std::map<std::string, std::string> given;
  CLI::App* run = app.add_subcommand(
      "run", "time workloads x devices x dtypes x batch sizes (comma lists; the run is their product)");
  add_run_options(*run, given);
  run->footer("Exit status: 0 when every configuration was measured or failed as oom/unsupported, 1 if any "
              "ended in error, 2 for bad input, 130 when interrupted (completed rows are kept).");

  std::string show_run = "last", show_format = "md", show_db;
  CLI::App* show = app.add_subcommand("show", "print a stored run from the results database");
  show->add_option("run", show_run, "run id, or last [default: last]");
  show->add_option("-o,--format", show_format, "output: md, json, jsonl, csv [default: md]");
  show->add_option("--db", show_db, "results database file [default: " + run_option("db").default_text + "]");

  GenerateOptions generate_options;
  CLI::App* generate = add_generate_command(app, generate_options);

  VerifyOptions verify_options;
  CLI::App* verify = add_verify_command(app, verify_options);

  // CLI11 would call an unknown command "an extra argument"; name it and the commands instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : {devices, workloads, run, generate, verify, show}) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::cerr << "mlspeed: unknown command '" << argv[1] << "'; commands: " << join(names, ", ") << "\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mlspeed: " << e.what() << " (see 'mlspeed --help' or 'mlspeed <command> --help')\n";
    return 2;
  } catch (const UsageError& e) {  // thrown by our own option callbacks during parsing
    std::cerr << "mlspeed: " << e.what() << "\n";
    return 2;
  }

  const CLI::App* chosen = app.get_subcommands().front();
  try {
    if (chosen == devices) return devices_command(json);
    if (chosen == workloads) return workloads_command(json);
    if (chosen == run) return run_command(parse_run_options(given), command_line(argc, argv));
    if (chosen == generate) return generate_command(generate_options);
    if (chosen == verify) return verify_command(verify_options, command_line(argc, argv));
    return show_command(show_run, show_format, show_db);
  } catch (const UsageError& e) {
    std::cerr << "mlspeed " << chosen->get_name() << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mlspeed::cli
