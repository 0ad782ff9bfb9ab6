#include "mlspeed/core/text.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace mlspeed {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return printable(text);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string printf_string(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(n > 0 ? n : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024 && u < 4) bytes /= 1024, ++u;
  return u == 0 ? printf_string("%.0f B", bytes) : printf_string("%.1f %s", bytes, units[u]);
}

std::string format_duration(double seconds) {
  if (seconds < 1e-3) return printf_string("%.1f us", seconds * 1e6);
  if (seconds < 1) return printf_string("%.1f ms", seconds * 1e3);
  if (seconds < 60) return printf_string("%.1f s", seconds);
  const long total = std::lround(seconds);
  if (total < 3600) return printf_string("%ldm%02lds", total / 60, total % 60);
  return printf_string("%ldh%02ldm", total / 3600, (total % 3600) / 60);
}

std::string format_flops(double flops) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int p = 0;
  while (flops >= 1000 && p < 5) flops /= 1000, ++p;
  return printf_string(flops >= 100 ? "%.0f %sFLOP/s" : "%.3g %sFLOP/s", flops, prefixes[p]);
}

std::string format_count(double value) {
  const char* suffix[] = {"", "k", "M", "G", "T", "P"};
  int s = 0;
  while (std::fabs(value) >= 1000 && s < 5) value /= 1000, ++s;
  return s == 0 ? printf_string("%.3g", value) : printf_string("%.1f%s", value, suffix[s]);
}

namespace {

size_t display_width(const std::string& s) {  // UTF-8 continuation bytes take no column
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string table_cell(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::string markdown_table(const std::vector<std::string>& titles, const std::vector<bool>& right_aligned,
                           const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const auto& title : titles) widths.push_back(std::max<size_t>(display_width(title), 3));
  for (const auto& row : rows) {
    cells.emplace_back();
    for (size_t c = 0; c < titles.size(); ++c) {
      cells.back().push_back(table_cell(c < row.size() ? row[c] : ""));
      widths[c] = std::max(widths[c], display_width(cells.back().back()));
    }
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = "|";
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string fill(widths[c] - std::min(widths[c], display_width(row[c])), ' ');
      out += " " + (right_aligned[c] ? fill + row[c] : row[c] + fill) + " |";
    }
    return out + "\n";
  };
  std::vector<std::string> rules;
  for (size_t c = 0; c < titles.size(); ++c) {
    const std::string dashes(widths[c] - 1, '-');
    rules.push_back(right_aligned[c] ? dashes + ":" : ":" + dashes);
  }
  std::string out = line(titles) + line(rules);
  for (const auto& row : cells) out += line(row);
  return out;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) out += printf_string("\\x%02x", c);
    else out += static_cast<char>(c);
  }
  return out;
}

std::string excerpt(const std::string& text, size_t max_bytes) {
  // Escaping only lengthens text: its first max_bytes + 1 bytes say whether it is cut.
  std::string out = printable(text.substr(0, max_bytes + 1));
  if (out.size() <= max_bytes) return out;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return out.substr(0, cut) + "...";
}

}  // namespace mlspeed
