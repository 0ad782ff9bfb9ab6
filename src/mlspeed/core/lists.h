// Comma lists, the shape of every sweep option: "-b 1,4,16" or "-w nanogpt-shakespeare-char,bert-base-infer".
// Each parser names the option and the bad item in its UsageError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlspeed {

// Splits on commas; rejects empty items ("1,,4", "4,") and items listed twice.
std::vector<std::string> split_list(std::string_view text, std::string_view option);

// Whole numbers >= 1, e.g. batch sizes.
// Batch sizes, sequence lengths and token counts: at most kMaxShapeValue each, so that no product
// of them and a model's sizes (memory estimates, positions) can overflow 64 bits.
inline constexpr int64_t kMaxShapeValue = int64_t{1} << 24;
std::vector<int64_t> parse_positive_ints(std::string_view text, std::string_view option);
// As parse_positive_ints, 0 allowed (llama-bench's -p 0 / -n 0: no such test).
std::vector<int64_t> parse_nonnegative_ints(std::string_view text, std::string_view option);
int64_t parse_positive_int(std::string_view text, std::string_view option);
int64_t parse_nonnegative_int(std::string_view text, std::string_view option);
// A whole number from `minimum` to `maximum`; a refusal names the range, also for a number too large
// to read.
int64_t parse_int_in_range(std::string_view text, std::string_view option, int64_t minimum, int64_t maximum);
double parse_positive_seconds(std::string_view text, std::string_view option);

// Each item must be one of `choices`; the error lists them.
std::vector<std::string> parse_choices(std::string_view text, std::string_view option,
                                       const std::vector<std::string>& choices);

}  // namespace mlspeed
