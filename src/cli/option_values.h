// Value parsers shared by several commands' option tables, so that an option two commands share
// (--format, --db, a precision, a file to read) is validated one way and says the same thing.
// Each throws UsageError naming the option, the bad value and what to do.
#pragma once

#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/core/weight_format.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

// One of `allowed` (every format when empty).
Format parse_format_option(const std::string& text, const std::vector<Format>& allowed = {});
// A comma list of precisions: fp32, tf32, fp16, bf16, or their long names.
std::vector<Precision> parse_precisions(const std::string& text, const std::string& option);
Precision parse_one_precision(const std::string& text, const std::string& option);
// A comma list of weight formats (core/weight_format.h), in mlspeed's or llama.cpp's spelling;
// each once.
std::vector<ModelFormat> parse_model_formats(const std::string& text, const std::string& option);
// A path to read: a regular file, or also a folder when `folder_too` (a data set's tree). Named
// pipes and devices are refused here, before anything opens them and blocks or reads forever.
std::string existing_file(const std::string& text, const char* option, bool folder_too = false);
// The most iterations, warm-up iterations, repetitions or training steps a command takes: the
// iteration limit of --min-time (TimingPolicy::max_iterations). Each is a loop, and -r also a row
// planned in memory: a count past this ran for ever or until memory ran out (-r 99999999999
// took 4.6 GB in 24 s), and a full-size model's step takes seconds, so 10,000 is hours already.
inline constexpr int64_t kMaxCount = 10000;
// A count from `minimum` (0 or 1) to kMaxCount; the refusal names the range.
int64_t parse_count(const std::string& text, const char* option, int64_t minimum);
// --min-time: at most a day a configuration. Longer is a slip (milliseconds typed as seconds), and
// the 10,000-iteration limit ends any step faster than 8.6 s before then.
inline constexpr double kMaxMinTimeSeconds = 86400;
double parse_min_time(const std::string& text);
// --db: a non-empty path.
std::string db_path(const std::string& text);
// --label: free text naming a run ("driver 580"), neither blank nor holding control characters
// (it is printed in tables and taken back as label:NAME).
std::string run_label(const std::string& text);
// What --help says --db defaults to.
inline constexpr const char* kDbDefaultHelp = "$MLSPEED_DB or ~/.local/share/mlspeed/results.db";
// --wide (run, show): the md table with every column instead of the eight that fit 120 characters.
inline constexpr const char* kWideHelp =
    "the md table with every column that has a value (batch, seq, graphs, TFLOP/s, the generation split, GB/s, "
    "job, peak memory ...) instead of the eight that fit 120 characters";
// Refuses --wide with a machine format, which has every field already.
void check_wide(bool wide, Format format);

}  // namespace mlspeed::cli
