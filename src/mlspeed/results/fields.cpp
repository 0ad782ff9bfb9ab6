#include "mlspeed/results/fields.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

// The column type follows from the member's C++ type.
template <class T> constexpr FieldType type_of() {
  if constexpr (IsOptional<T>::value) return type_of<typename T::value_type>();
  else if constexpr (std::is_same_v<T, bool>) return FieldType::boolean;
  else if constexpr (std::is_integral_v<T>) return FieldType::integer;
  else if constexpr (std::is_floating_point_v<T>) return FieldType::real;
  else if constexpr (std::is_same_v<T, std::vector<double>>) return FieldType::real_list;
  else return FieldType::text;  // strings and enums (stored by name)
}

Value to_value(bool v) { return v; }
Value to_value(int v) { return static_cast<int64_t>(v); }
Value to_value(int64_t v) { return v; }
Value to_value(double v) { return std::isfinite(v) ? Value(v) : Value(); }
Value to_value(const std::string& v) { return v; }
Value to_value(const std::vector<double>& v) { return v; }
Value to_value(Precision v) { return std::string(name(v)); }
Value to_value(Status v) { return std::string(name(v)); }
Value to_value(Job v) { return std::string(name(v)); }
template <class T> Value to_value(const std::optional<T>& v) { return v ? to_value(*v) : Value(); }

[[noreturn]] void mismatch(const char* expected) {
  throw std::invalid_argument(std::string("expected ") + expected);
}

template <class T> const T& get_as(const Value& v, const char* expected) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  mismatch(expected);
}

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
void from_value(const Value& v, std::vector<double>& out) {
  out = std::holds_alternative<std::monostate>(v) ? std::vector<double>()
                                                  : get_as<std::vector<double>>(v, "a list of numbers");
}
void from_value(const Value& v, Precision& out) {
  auto p = parse_precision(get_as<std::string>(v, "a dtype"));
  if (!p) mismatch("one of fp32, tf32, fp16, bf16");
  out = *p;
}
void from_value(const Value& v, Status& out) {
  auto s = parse_status(get_as<std::string>(v, "a status"));
  if (!s) mismatch("one of ok, oom, too-large, unsupported, error");
  out = *s;
}
void from_value(const Value& v, Job& out) {
  auto j = parse_job(get_as<std::string>(v, "a job"));
  if (!j) mismatch("train or infer");
  out = *j;
}
template <class T> void from_value(const Value& v, std::optional<T>& out) {
  if (std::holds_alternative<std::monostate>(v)) {
    out.reset();
  } else {
    T inner{};
    from_value(v, inner);
    out = inner;
  }
}

// `access` is a generic lambda returning a reference to the member, for const and non-const rows.
template <class Access> Field field(std::string name, std::string help, Access access) {
  using T = std::decay_t<decltype(access(std::declval<Result&>()))>;
  return Field{std::move(name), type_of<T>(), std::move(help),
               [access](const Result& r) { return to_value(access(r)); },
               [access](Result& r, const Value& v) { from_value(v, access(r)); }};
}

#define MEMBER(expr) [](auto& r) -> auto& { return r.expr; }

std::vector<Field> make_fields() {
  return {
      field("run_id", "id of the run in the results database (0 if not stored)", MEMBER(run_id)),
      field("timestamp", "when the row was measured (UTC)", MEMBER(timestamp)),
      field("workload", "workload name", MEMBER(workload)),
      field("size", "workload size (tiny, full, ...)", MEMBER(size)),
      field("job", "train or infer", MEMBER(job)),
      field("device", "device id (cpu, cuda:0, mps)", MEMBER(device)),
      field("dtype", "fp32, tf32, fp16 or bf16", MEMBER(precision)),
      field("batch", "batch size", MEMBER(batch)),
      field("seq_len", "sequence length (0 if none)", MEMBER(seq_len)),
      field("new_tokens", "tokens generated one at a time (0 unless the step generates)", MEMBER(new_tokens)),
      field("repetition", "repetition index, from 0", MEMBER(repetition)),
      field("weights", "random, or the safetensors file loaded", MEMBER(weights)),
      field("data", "synthetic, or the data set each step loaded", MEMBER(data)),
      field("status", "ok, oom, too-large, unsupported or error", MEMBER(status)),
      field("message", "why the row failed, or a note", MEMBER(message)),
      field("warmup", "untimed iterations before timing", MEMBER(warmup)),
      field("iterations", "timed iterations", MEMBER(summary.n)),
      field("median_ms", "median time per iteration", MEMBER(summary.median)),
      field("mean_ms", "mean time per iteration", MEMBER(summary.mean)),
      field("stddev_ms", "sample standard deviation (n-1)", MEMBER(summary.stddev)),
      field("min_ms", "fastest iteration", MEMBER(summary.min)),
      field("max_ms", "slowest iteration", MEMBER(summary.max)),
      field("cv", "coefficient of variation (stddev / mean)", MEMBER(summary.cv)),
      field("items_per_s", "throughput from the median iteration", MEMBER(items_per_s)),
      field("item_unit", "what throughput counts (tokens, samples)", MEMBER(item_unit)),
      field("items_per_step", "items processed per iteration", MEMBER(items_per_step)),
      field("flops_per_item", "model FLOPs per item (analytic)", MEMBER(flops_per_item)),
      field("tflops", "achieved model TFLOP/s", MEMBER(tflops)),
      field("peak_tflops", "device peak TFLOP/s for this dtype", MEMBER(peak_tflops)),
      field("mfu", "model FLOP utilisation (tflops / peak_tflops)", MEMBER(mfu)),
      field("peak_memory_bytes", "peak device memory (CPU: peak resident set)", MEMBER(peak_memory_bytes)),
      field("first_token_ms", "generation: median time to the first new token", MEMBER(first_token_ms)),
      field("ms_per_token", "generation: median time per token after the first", MEMBER(ms_per_token)),
      field("steps_per_job", "steps in the job a user waits for (1: the step is the job)", MEMBER(steps_per_job)),
      field("job_s", "median step time x steps_per_job (when more than 1)", MEMBER(job_s)),
      field("parameters", "model parameters", MEMBER(parameters)),
      field("samples_ms", "raw time of every timed iteration", MEMBER(samples_ms)),
      field("first_token_samples_ms", "generation: raw time to the first token of every iteration",
            MEMBER(first_token_samples_ms)),
      field("device_name", "device model", MEMBER(device_facts.name)),
      field("device_memory_bytes", "device memory", MEMBER(device_facts.memory_bytes)),
      field("compute_capability", "CUDA compute capability", MEMBER(device_facts.compute_capability)),
      field("multiprocessors", "CUDA multiprocessors", MEMBER(device_facts.multiprocessors)),
      field("driver", "GPU driver version", MEMBER(device_facts.driver)),
      field("peak_source", "where the peak FLOP/s comes from", MEMBER(device_facts.peak_source)),
      field("hostname", "host name", MEMBER(host.hostname)),
      field("os", "operating system", MEMBER(host.os)),
      field("cpu_model", "CPU model", MEMBER(host.cpu_model)),
      field("logical_cpus", "logical CPUs", MEMBER(host.logical_cpus)),
      field("physical_cores", "physical CPU cores", MEMBER(host.physical_cores)),
      field("ram_bytes", "host memory", MEMBER(host.ram_bytes)),
      field("threads", "LibTorch intra-op threads", MEMBER(host.torch_threads)),
      field("torch_version", "LibTorch version", MEMBER(host.torch_version)),
      field("cuda_version", "CUDA runtime version", MEMBER(host.cuda_version)),
      field("cudnn_version", "cuDNN version", MEMBER(host.cudnn_version)),
      field("blas", "BLAS library in use", MEMBER(host.blas)),
      field("mlspeed_version", "mlspeed version", MEMBER(host.mlspeed_version)),
      field("build_type", "mlspeed build type", MEMBER(host.build_type)),
      field("compiler", "compiler mlspeed was built with", MEMBER(host.compiler)),
      field("sanitized", "built with sanitizers", MEMBER(host.sanitized)),
      field("tf32", "TF32 allowed for float32 matrix products", MEMBER(tf32)),
      field("autocast", "autocast mixed precision on", MEMBER(autocast)),
      field("deterministic", "deterministic algorithms on", MEMBER(deterministic)),
      field("cudnn_benchmark", "cuDNN benchmark mode on", MEMBER(cudnn_benchmark)),
  };
}

#undef MEMBER

}  // namespace

const std::vector<Field>& result_fields() {
  static const std::vector<Field> fields = make_fields();
  return fields;
}

const Field* find_field(std::string_view name) {
  for (const auto& f : result_fields())
    if (f.name == name) return &f;
  return nullptr;
}

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
  };
  return std::visit(Visitor{}, value);
}

namespace {
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
    case FieldType::integer: {
      const std::string s(text);
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(s.c_str(), &end, 10);
      if (end != s.c_str() + s.size() || errno == ERANGE)
        throw std::invalid_argument("'" + s + "' is not a whole number");
      return static_cast<int64_t>(i);
    }
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
  }
  return {};
}

}  // namespace mlspeed
