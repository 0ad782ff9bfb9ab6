#include "mlspeed/results/field_list.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace field_detail {

void mismatch(const char* expected) { throw std::invalid_argument(std::string("expected ") + expected); }

Value to_value(bool v) { return v; }
Value to_value(int v) { return static_cast<int64_t>(v); }
Value to_value(int64_t v) { return v; }
Value to_value(double v) { return std::isfinite(v) ? Value(v) : Value(); }
Value to_value(const std::string& v) { return v; }
Value to_value(const std::vector<double>& v) { return v; }
Value to_value(const std::vector<int64_t>& v) { return v; }

void from_value(const Value& v, bool& out) { out = get_as<bool>(v, "true or false"); }
void from_value(const Value& v, int64_t& out) { out = get_as<int64_t>(v, "a whole number"); }
void from_value(const Value& v, int& out) { out = static_cast<int>(get_as<int64_t>(v, "a whole number")); }
void from_value(const Value& v, double& out) {
  if (const auto* i = std::get_if<int64_t>(&v)) out = static_cast<double>(*i);
  else out = get_as<double>(v, "a number");
}
void from_value(const Value& v, std::string& out) {
  out = std::holds_alternative<std::monostate>(v) ? std::string() : get_as<std::string>(v, "text");
}
// A list read from JSON is whole numbers or reals by what it holds, not by the field it is for.
void from_value(const Value& v, std::vector<double>& out) {
  if (std::holds_alternative<std::monostate>(v)) {
    out.clear();
  } else if (const auto* whole = std::get_if<std::vector<int64_t>>(&v)) {
    out.assign(whole->begin(), whole->end());
  } else {
    out = get_as<std::vector<double>>(v, "a list of numbers");
  }
}
void from_value(const Value& v, std::vector<int64_t>& out) {
  out.clear();
  if (std::holds_alternative<std::monostate>(v)) return;
  if (const auto* reals = std::get_if<std::vector<double>>(&v)) {
    for (double x : *reals) {
      if (x != std::floor(x) || std::abs(x) > 9.007199254740992e15) mismatch("a list of whole numbers");
      out.push_back(static_cast<int64_t>(x));
    }
    return;
  }
  out = get_as<std::vector<int64_t>>(v, "a list of whole numbers");
}

}  // namespace field_detail

std::string value_to_text(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return printf_string("%.17g", d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<double>& xs) const {
      std::string out;
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? " " : "") + printf_string("%.17g", xs[i]);
      return out;
    }
    std::string operator()(const std::vector<int64_t>& xs) const {
      std::string out;
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? " " : "") + std::to_string(xs[i]);
      return out;
    }
  };
  return std::visit(Visitor{}, value);
}

namespace {
int64_t parse_whole(std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
    throw std::invalid_argument("'" + s + "' is not a whole number");
  return static_cast<int64_t>(i);
}

double parse_double(std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  // ERANGE also flags underflow to a subnormal, which is a fine value; only overflow is not.
  if (s.empty() || end != s.c_str() + s.size() || (errno == ERANGE && std::isinf(d)))
    throw std::invalid_argument("'" + s + "' is not a number");
  return d;
}
}  // namespace

Value value_from_text(FieldType type, std::string_view text) {
  if (text.empty() && type != FieldType::text) return {};
  switch (type) {
    case FieldType::boolean:
      if (text == "true") return true;
      if (text == "false") return false;
      throw std::invalid_argument("'" + std::string(text) + "' is not true or false");
    case FieldType::integer: return parse_whole(text);
    case FieldType::real: return parse_double(text);
    case FieldType::text: return std::string(text);
    case FieldType::real_list: {
      std::vector<double> xs;
      size_t start = 0;
      while (start <= text.size()) {
        const size_t space = text.find(' ', start);
        xs.push_back(parse_double(text.substr(start, space == text.npos ? text.npos : space - start)));
        if (space == text.npos) break;
        start = space + 1;
      }
      return xs;
    }
    case FieldType::integer_list: {
      std::vector<int64_t> xs;
      for (size_t start = 0; start <= text.size();) {
        const size_t space = text.find(' ', start);
        xs.push_back(parse_whole(text.substr(start, space == text.npos ? text.npos : space - start)));
        if (space == text.npos) break;
        start = space + 1;
      }
      return xs;
    }
  }
  return {};
}

}  // namespace mlspeed
