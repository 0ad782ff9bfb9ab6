#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

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

// Declares `options` on `command`; after parsing, `given` holds what was typed.
void declare(CLI::App& command, const std::vector<OptionInfo>& options, Given& given) {
  for (const OptionInfo& spec : options) {
    const std::string key = spec.long_name;
    CLI::Option* option = nullptr;
    if (spec.value_name.empty()) {
      option = command.add_flag_callback(spec.flags, [&given, key] { given[key] = ""; }, spec.help);
    } else if (spec.many) {  // "RUN...": every remaining argument
      option = command
                   .add_option_function<std::vector<std::string>>(
                       spec.flags,
                       [&given, key](const std::vector<std::string>& values) {
                         given[key] = join(values, std::string(1, kManySeparator));
                       },
                       spec.help)
                   ->type_name(spec.value_name.substr(0, spec.value_name.size() - 3))  // CLI11 adds the "..."
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      // Taken as a list so that a repeated option gets our message, not CLI11's.
      option = command
                   .add_option_function<std::vector<std::string>>(
                       spec.flags,
                       [&given, key, list = spec.list](const std::vector<std::string>& values) {
                         if (values.size() > 1)
                           throw UsageError("--" + key + " was given " + std::to_string(values.size()) +
                                            " times; give it once" +
                                            (list ? ", with a comma list (e.g. --" + key + " " + values[0] + "," +
                                                        values[1] + ")"
                                                  : ""));
                         given[key] = values.front();
                       },
                       spec.help)
                   ->type_name(spec.value_name)
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                   ->expected(1)
                   ->allow_extra_args(false);  // one value an option: `-o csv 12` leaves 12 to the positional
    }
    if (spec.hidden) option->group("");
  }
}

// Every command of the registry and its options on one CLI11 app; parse() fills an Invocation.
class CommandLine {
 public:
  CommandLine();
  Invocation parse(int argc, char** argv);
  int exit(const CLI::Error& e) { return app_.exit(e); }
  // The command being parsed, for messages ("mlspeed run: ..."); empty before it is known.
  const std::string& chosen() const { return chosen_; }

 private:
  CLI::App app_{"mlspeed: how fast is this machine for machine learning, and can its numbers be trusted?"};
  std::map<std::string, Given> given_;  // by command name; a node's address is stable
  std::string chosen_;
};

CommandLine::CommandLine() {
  app_.require_subcommand(1);
  app_.set_version_flag("--version", collect_host_facts().mlspeed_version);
  for (const Command& c : commands()) {
    CLI::App* command = app_.add_subcommand(c.name, c.description);
    declare(*command, c.options, given_[c.name]);
    if (!c.footer.empty()) command->footer(c.footer);
  }
}

const Command& find_command(const std::string& name) {
  for (const Command& c : commands())
    if (c.name == name) return c;
  std::vector<std::string> names;
  for (const Command& c : commands()) names.push_back(c.name);
  throw UsageError("unknown command '" + printable(name) + "'; commands: " + join(names, ", "));
}

Invocation CommandLine::parse(int argc, char** argv) {
  // CLI11 would call an unknown command "an extra argument"; name it and the commands instead.
  if (argc >= 2 && argv[1][0] != '-') find_command(argv[1]);
  app_.parse(argc, argv);
  chosen_ = app_.get_subcommands().front()->get_name();
  return {chosen_, command_line(argc, argv), find_command(chosen_).parse(given_[chosen_])};
}

}  // namespace

Invocation parse_arguments(int argc, char** argv) { return CommandLine().parse(argc, argv); }

int run_app(int argc, char** argv) {
  CommandLine command_line;
  try {
    const Invocation invocation = command_line.parse(argc, argv);
    return invocation.parsed.run(invocation.command_line);
  } catch (const CLI::CallForHelp& e) {
    return command_line.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return command_line.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return command_line.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mlspeed: " << one_line(e.what()) << " (see 'mlspeed --help' or 'mlspeed <command> --help')\n";
    return 2;
  } catch (const UsageError& e) {
    const std::string& chosen = command_line.chosen();
    std::cerr << "mlspeed" << (chosen.empty() ? "" : " " + chosen) << ": " << one_line(e.what()) << "\n";
    return 2;
  } catch (const InputFileError& e) {
    // A file given that cannot be used (a --model that is no GGUF, a truncated one) before
    // anything ran: bad input, like a bad name.
    const std::string& chosen = command_line.chosen();
    std::cerr << "mlspeed" << (chosen.empty() ? "" : " " + chosen) << ": " << one_line(e.what()) << "\n";
    return 2;
  }
}

}  // namespace mlspeed::cli
