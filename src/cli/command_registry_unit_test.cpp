// The registry of commands (commands.cpp): every command declared, parsed and dispatched from one
// entry, and an option name meaning one thing in every command that has it.
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "cli/command.h"
#include "cli/commands.h"
#include "testing/command_line.h"

namespace mlspeed::cli {
namespace {

// "--devices" and "--device" name one thing, in a list or alone.
std::string singular(std::string name) {
  if (name.size() > 1 && name.back() == 's') name.pop_back();
  return name;
}

// "-w" of "-w,--workloads"; empty when there is none.
std::string short_flag(const std::string& flags) {
  if (flags.rfind("-", 0) != 0 || flags.rfind("--", 0) == 0) return "";
  return flags.substr(0, flags.find(','));
}

TEST(CommandRegistry, EveryCommandHasOneEntryWithItsHelp) {
  std::set<std::string> names;
  for (const Command& c : commands()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name << " is registered twice";
    EXPECT_FALSE(c.description.empty()) << c.name;
    EXPECT_TRUE(c.parse) << c.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"devices", "workloads", "run", "generate", "verify", "show", "history",
                                          "export", "import", "compare", "report", "quantize"}));
}

// Each command line reaches its own command's entry, with that command's options: nothing falls
// through to another command.
TEST(CommandRegistry, ACommandLineReachesItsOwnCommand) {
  const Invocation run = testing::parse_command_line({"run", "-w", "bert-base-infer"});
  EXPECT_EQ(run.command, "run");
  EXPECT_EQ(run.options<RunOptions>().workloads, (std::vector<std::string>{"bert-base-infer"}));
  EXPECT_THROW(run.options<ShowOptions>(), std::bad_any_cast);
  EXPECT_EQ(testing::parse_command_line({"devices", "-o", "json"}).options<ListingOptions>().format, Format::json);
  EXPECT_EQ(testing::parse_command_line({"workloads", "--json"}).options<ListingOptions>().format, Format::json);
  EXPECT_EQ(testing::parse_command_line({"history"}).command, "history");
  EXPECT_EQ(testing::parse_command_line({"export", "3"}).options<ExportOptions>().run, "3");
  for (const Command& c : commands())
    EXPECT_THROW(testing::parse_command_line({c.name, "--help"}), CLI::CallForHelp) << c.name;
}

TEST(CommandRegistry, AnUnknownCommandIsBadInputNamingTheCommands) {
  const std::string refusal = testing::usage_error({"shwo"});
  EXPECT_NE(refusal.find("unknown command 'shwo'; commands: devices, workloads, run"), std::string::npos) << refusal;
}

// -o is the output format wherever it appears, -n the timed iterations, and so on: a short flag
// stands for one long option in every command (in a list or alone: -d, --devices / --device),
// and a long option takes one kind of value everywhere (or a list of it: LIST, RUN...).
TEST(CommandRegistry, AnOptionNameMeansOneThingInEveryCommand) {
  std::map<std::string, std::pair<std::string, std::string>> long_of_short;  // -o -> (format, run)
  std::map<std::string, std::pair<std::string, std::string>> value_of_long;  // format -> (FORMAT, run)
  for (const Command& c : commands()) {
    for (const OptionInfo& o : c.options) {
      if (o.hidden) continue;
      const std::string flag = short_flag(o.flags);
      if (!flag.empty()) {
        const auto [it, first] = long_of_short.emplace(flag, std::make_pair(singular(o.long_name), c.name));
        EXPECT_TRUE(first || it->second.first == singular(o.long_name))
            << flag << " is --" << o.long_name << " in " << c.name << " but --" << it->second.first << " in "
            << it->second.second;
      }
      const std::string value = o.list || o.many ? "LIST" : o.value_name;
      const auto [it, first] = value_of_long.emplace(singular(o.long_name), std::make_pair(value, c.name));
      const std::string& other = it->second.first;
      EXPECT_TRUE(first || other == value || other == "LIST" || value == "LIST")
          << "--" << o.long_name << " takes " << value << " in " << c.name << " but " << other << " in "
          << it->second.second;
    }
  }
  // The options shared through shared_options.h: -o is always the format, a file is always --output,
  // and --db says the same in every command.
  std::set<std::string> db_helps;
  for (const Command& c : commands()) {
    for (const OptionInfo& o : c.options) {
      if (o.hidden) continue;
      if (o.long_name == "format") EXPECT_EQ(short_flag(o.flags), "-o") << c.name;
      if (o.long_name == "output") EXPECT_EQ(short_flag(o.flags), "") << c.name;
      if (o.long_name == "db") db_helps.insert(o.help);
    }
  }
  EXPECT_EQ(db_helps.size(), 1u);
}

}  // namespace
}  // namespace mlspeed::cli
