#include "mlspeed/core/text.h"

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

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mlspeed
