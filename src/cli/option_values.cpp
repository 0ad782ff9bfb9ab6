#include "cli/option_values.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/text.h"

namespace mlspeed::cli {

Format parse_format_option(const std::string& text, const std::vector<Format>& allowed) {
  const std::optional<Format> format = parse_format(text);
  if (format && (allowed.empty() || std::count(allowed.begin(), allowed.end(), *format))) return *format;
  std::vector<std::string> names;
  for (const std::string& n : format_names())
    if (allowed.empty() || std::count(allowed.begin(), allowed.end(), *parse_format(n))) names.push_back(n);
  throw UsageError("--format: unknown format '" + text + "'; choose from: " + join(names, ", "));
}

Precision parse_one_precision(const std::string& text, const std::string& option) {
  if (const auto p = parse_precision(text)) return *p;
  throw UsageError(option + ": unknown value '" + text + "'; choose from: " + precision_choices());
}

std::vector<Precision> parse_precisions(const std::string& text, const std::string& option) {
  std::vector<Precision> out;
  for (const std::string& item : parse_precision_list(text, option)) out.push_back(*parse_precision(item));
  return out;
}

std::vector<ModelFormat> parse_model_formats(const std::string& text, const std::string& option) {
  std::vector<ModelFormat> out;
  for (const std::string& item : split_list(text, option)) {
    const std::optional<ModelFormat> format = parse_model_format(item);
    if (!format)
      throw UsageError(option + ": unknown value '" + item + "'; choose from: " + model_format_choices() +
                       " (llama.cpp's names in any case)");
    if (std::find(out.begin(), out.end(), *format) != out.end())
      throw UsageError(option + ": '" + item + "' is " + std::string(name(*format)) + ", already listed");
    out.push_back(*format);
  }
  return out;
}

std::string existing_file(const std::string& text, const char* option, bool folder_too) {
  if (text.empty()) throw UsageError(std::string(option) + ": the path is empty");
  if (!path_exists(text)) throw UsageError(std::string(option) + ": " + text + " does not exist");
  const std::string why = not_a_regular_file(text);
  if (why.empty() || (folder_too && is_directory(text))) return text;
  throw UsageError(std::string(option) + ": " + text + " " + why + "; give a regular file" +
                   (folder_too ? " or a folder" : ""));
}

int64_t parse_count(const std::string& text, const char* option, int64_t minimum) {
  return parse_int_in_range(text, option, minimum, kMaxCount);
}

double parse_min_time(const std::string& text) {
  const double seconds = parse_positive_seconds(text, "--min-time");
  if (seconds > kMaxMinTimeSeconds)
    throw UsageError("--min-time: '" + text + "' is out of range; expected at most " +
                     printf_string("%.0f", kMaxMinTimeSeconds) + " seconds (a day)");
  return seconds;
}

std::string db_path(const std::string& text) {
  if (text.empty()) throw UsageError("--db: the path is empty");
  return text;
}

void check_wide(bool wide, Format format) {
  if (wide && format != Format::md)
    throw UsageError("--wide widens the md table, and -o " + format_names()[static_cast<size_t>(format)] +
                     " already has every field; give one");
}

std::string run_label(const std::string& text) {
  if (text.find_first_not_of(' ') == std::string::npos)
    throw UsageError("--label: the label is empty; give a name such as --label \"driver 580\"");
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw UsageError("--label: '" + printable(text) + "' holds a control character (tab, newline, ...); "
                       "give printable text");
  return text;
}

}  // namespace mlspeed::cli
