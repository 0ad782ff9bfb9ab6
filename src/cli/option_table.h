// Every command's options are one declarative table: each option once, with its help, its default
// and the function that parses and validates a typed value into the command's options struct.
// The app declares a table on its command (app.cpp); parse_options applies what was typed and,
// for the rest, the defaults, through the same functions, so a default is a value that parses
// like a typed one, never a help text the parser has to recognise.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlspeed::cli {

// What was typed: long option name -> the text given ("" for a flag).
using Given = std::map<std::string, std::string>;

template <class Options> struct OptionSpec {
  std::string flags;       // CLI11 form: "-w,--workloads"; a positional argument has no dashes: "run"
  std::string value_name;  // "LIST"; empty for a flag, which is applied with "" when given
  std::string help;
  // Applied as if typed when the option is not given; empty: the struct's own default stands, and
  // --help shows `default_help` for it ("each workload's own").
  std::optional<std::string> default_value;
  std::string default_help;
  void (*apply)(Options& options, const std::string& text);
  // Accepted but not listed by --help: an old spelling whose `apply` says what to type instead.
  bool hidden = false;

  std::string long_name() const {
    const auto dashes = flags.rfind("--");
    return dashes == std::string::npos ? flags : flags.substr(dashes + 2);
  }
  bool positional() const { return flags.find('-') != 0; }
  bool takes_list() const { return value_name == "LIST"; }
  // A positional argument that takes any number of values ("RUN..."): they reach `apply` as one
  // text, joined by kManySeparator (split_many splits it), since a value may hold a comma.
  bool takes_many() const {
    return positional() && value_name.size() > 3 && value_name.substr(value_name.size() - 3) == "...";
  }
  // The default as --help shows it; empty for flags.
  std::string default_shown() const { return default_value ? *default_value : default_help; }
};

template <class Options> using OptionTable = std::vector<OptionSpec<Options>>;

// An option as the command line declares it, whatever options struct it fills (app.cpp declares
// every command's options on CLI11 from these).
struct OptionInfo {
  std::string flags;       // "-w,--workloads"
  std::string long_name;   // "workloads": the key of what was typed (Given)
  std::string value_name;  // "LIST"; empty for a flag
  std::string help;        // with the default, if any, as --help shows it
  bool list, many, hidden;
};

template <class Options> std::vector<OptionInfo> describe(const OptionTable<Options>& table) {
  std::vector<OptionInfo> out;
  for (const auto& spec : table)
    out.push_back({spec.flags, spec.long_name(), spec.value_name,
                   spec.help + (spec.default_shown().empty() ? "" : " [default: " + spec.default_shown() + "]"),
                   spec.takes_list(), spec.takes_many(), spec.hidden});
  return out;
}

// Joins the values of a "NAME..." positional (app.cpp): a run name or a path may hold a comma, and
// almost never a line break.
inline constexpr char kManySeparator = '\n';

// The values of a "NAME..." positional, as typed.
inline std::vector<std::string> split_many(const std::string& text) {
  std::vector<std::string> values;
  size_t start = 0;
  for (size_t end; (end = text.find(kManySeparator, start)) != std::string::npos; start = end + 1)
    values.push_back(text.substr(start, end - start));
  values.push_back(text.substr(start));
  return values;
}

// The options struct from what was typed, each value parsed and validated by its table entry
// (UsageError for bad input), every other option at its default.
template <class Options> Options parse_options(const OptionTable<Options>& table, const Given& given) {
  Options options;
  for (const auto& spec : table) {
    auto it = given.find(spec.long_name());
    if (it != given.end()) spec.apply(options, it->second);
    else if (spec.default_value) spec.apply(options, *spec.default_value);
  }
  return options;
}

}  // namespace mlspeed::cli
