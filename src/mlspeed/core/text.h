// Small formatting helpers shared by printers and messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlspeed {

std::string join(const std::vector<std::string>& items, const std::string& separator);
std::string printf_string(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string format_bytes(double bytes);          // "80.0 GiB"
std::string format_duration(double seconds);     // "850 ms", "12.3 s", "4m05s"
std::string format_flops(double flops_per_second);  // "989 TFLOP/s"
std::string format_count(double value);          // "124.4M", "10.6M", "65", "1.11"
std::string now_iso8601();                       // UTC, "2026-11-23T01:47:52Z"
// `text` with control characters (bytes below 0x20, and 0x7f) written as \xNN: a name read from
// a file is shown this way, so that it cannot move the cursor or clear the user's terminal.
std::string printable(const std::string& text);
// `text` quoted in a message: printable(), cut to at most `max_bytes` (on a character boundary)
// and "..." when cut, so that no value read from a file can make an error line long.
std::string excerpt(const std::string& text, size_t max_bytes = 60);
// One CSV cell (RFC 4180): quoted only when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& text);
// `text` with its line breaks as spaces and other control characters as printable() writes them:
// a message that has to stay one line of a note, a list or a table cell.
std::string one_line(std::string text);
// `text` up to its first line break.
std::string first_line(const std::string& text);
inline std::string on_off(bool flag) { return flag ? "on" : "off"; }

// A markdown table, every column padded to one width (UTF-8 aware: "±" is one column); columns
// whose `right_aligned` entry is true are right-aligned. Cells are kept on one line and their '|'
// escaped, so no text can break the table.
std::string markdown_table(const std::vector<std::string>& titles, const std::vector<bool>& right_aligned,
                           const std::vector<std::vector<std::string>>& rows);

}  // namespace mlspeed
