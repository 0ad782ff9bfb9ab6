#include "mlspeed/bench/plan.h"

#include <algorithm>

#include "mlspeed/core/errors.h"

namespace mlspeed {
namespace {

void check_files(const SweepRequest& request) {
  if (!request.open.weights.empty() && request.workloads.size() != 1)
    throw UsageError("--weights: a weights file fits one model; choose one workload with -w");
  if (request.open.data.empty()) return;
  for (const Workload* workload : request.workloads)
    if (workload->data_format().empty())
      throw UsageError("--data: " + workload->name() +
                       " reads no data set; choose workloads that do (see `mlspeed workloads`)");
}

// Each precision with each weight format the workload takes; a workload that takes none runs in
// its own storage (a sweep of Llama in q4_0 and q8_0 beside ResNet-50 times ResNet-50 once).
std::vector<Numerics> numerics_of(const Workload& workload, const SweepRequest& request) {
  const std::vector<ModelFormat> taken = workload.weight_formats();
  std::vector<Numerics> out;
  for (Precision precision : request.precisions) {
    if (const std::optional<ModelFormat> fixed = workload.fixed_weight_format()) {
      out.emplace_back(precision, *fixed);
      continue;
    }
    bool any = false;
    for (ModelFormat format : request.weight_formats)
      if (std::find(taken.begin(), taken.end(), format) != taken.end()) {
        out.emplace_back(precision, format);
        any = true;
      }
    if (!any) out.emplace_back(precision);
  }
  return out;
}

// The catalogue's workloads that take --weight-format, for the message that names them.
std::string workloads_taking_formats() {
  std::string names;
  for (const Workload* w : workload_catalogue())
    if (!w->weight_formats().empty()) names += (names.empty() ? "" : ", ") + w->name();
  return names;
}

void check_weight_formats(const SweepRequest& request) {
  for (ModelFormat format : request.weight_formats) {
    bool taken = false;
    for (const Workload* workload : request.workloads) {
      const std::vector<ModelFormat> formats = workload->weight_formats();
      taken = taken || std::find(formats.begin(), formats.end(), format) != formats.end();
    }
    if (!taken)
      throw UsageError("--weight-format: no chosen workload stores its weights as " + std::string(name(format)) +
                       "; the workloads that take a weight format: " + workloads_taking_formats());
  }
}

// --depth fills a KV cache: refused when no chosen workload has one to fill (a depth of 0 is
// every workload's own).
void check_depths(const SweepRequest& request) {
  const auto& depths = request.shapes.depths;
  if (std::all_of(depths.begin(), depths.end(), [](int64_t d) { return d == 0; })) return;
  for (const Workload* workload : request.workloads)
    if (workload->takes_depth()) return;
  std::string names;
  for (const Workload* w : workload_catalogue())
    if (w->takes_depth()) names += (names.empty() ? "" : ", ") + w->name();
  throw UsageError("--depth: no chosen workload generates from a KV cache it can fill first; the workloads that "
                   "take a depth: " + names + " and every --model file");
}

// A length of 0 leaves a language-model test out (llama-bench's -p 0, -n 0): the workloads that
// time prompts and generation as separate tests (those that take a depth) take it; any other
// chosen workload that has such lengths is refused, never run at a length of 0.
void check_zero_lengths(const SweepRequest& request) {
  const auto has_zero = [](const std::vector<int64_t>& v) { return std::find(v.begin(), v.end(), 0) != v.end(); };
  const bool zero_seq = has_zero(request.shapes.seqs), zero_new = has_zero(request.shapes.new_tokens);
  if (!zero_seq && !zero_new) return;
  for (const Workload* workload : request.workloads) {
    if (workload->takes_depth()) continue;
    for (const auto& size_name : request.sizes) {
      const WorkloadSize* size = find_size(*workload, size_name);
      if (!size) continue;
      const char* option = nullptr;
      if (zero_seq && !size->seqs.empty()) option = "--seq";
      else if (zero_new && !size->new_tokens.empty()) option = "--new-tokens";
      if (option)
        throw UsageError(std::string(option) + ": 0 leaves a language-model test out (llama-bench's -p 0 / -n 0), " +
                         "for the workloads that time prompts and generation apart (llama2-7b-generate, --model " +
                         "files); " + workload->name() + " takes positive lengths: choose workloads with -w");
    }
  }
}

}  // namespace

std::vector<Configuration> expand(const SweepRequest& request) {
  check_files(request);
  check_weight_formats(request);
  check_depths(request);
  check_zero_lengths(request);
  std::vector<Configuration> plan;
  for (const auto& size_name : request.sizes) {
    bool any = false;
    for (const Workload* workload : request.workloads) any = any || find_size(*workload, size_name);
    if (!any)
      throw UsageError("--sizes: none of the chosen workloads has a size '" + size_name +
                       "' (see `mlspeed workloads`)");
  }
  for (const Workload* workload : request.workloads) {
    for (const auto& size_name : request.sizes) {
      const WorkloadSize* size = find_size(*workload, size_name);
      if (!size) continue;
      const std::vector<Shape> shapes = workload->shapes(*size, request.shapes);
      if (shapes.empty())
        throw UsageError("--seq 0 and --new-tokens 0 leave no test of " + workload->name() +
                         ": give a prompt length (-s) or a generation length (-g) above 0");
      for (const Shape& shape : shapes) {
        // Each at most kMaxShapeValue (2^24): the sum cannot overflow.
        const int64_t length = shape.depth + shape.seq + shape.new_tokens;
        const std::string given = std::string(shape.depth > 0 ? "--depth + " : "") +
                                  (shape.new_tokens > 0 ? "--seq + --new-tokens: " : "--seq: ");
        if (size->max_seq > 0 && length > size->max_seq)
          throw UsageError(given + std::to_string(length) + " exceeds the longest sequence " + workload->name() +
                           " (" + size_name + ") takes, " + std::to_string(size->max_seq));
      }
      const bool data_parallel = request.data_parallel > 0 && workload->job() == Job::train;
      for (const auto& device : request.devices)
        for (const Numerics& numerics : numerics_of(*workload, request))
          for (const Shape& shape : shapes)
            for (int rep = 0; rep < request.repetitions; ++rep) {
              plan.push_back({workload, size_name, device, numerics, shape, rep});
              if (data_parallel)
                plan.push_back({workload, size_name, Placement::data_parallel(device, request.data_parallel),
                                numerics, shape, rep});
            }
    }
  }
  return plan;
}

bool same_model(const Configuration& a, const Configuration& b) {
  return a.workload == b.workload && a.size == b.size && a.placement == b.placement &&
         !a.placement.is_data_parallel() && a.numerics == b.numerics;
}

bool one_device_twin(const Configuration& single, const Configuration& parallel) {
  const Shape &a = single.shape, &b = parallel.shape;
  return !single.placement.is_data_parallel() && parallel.placement.is_data_parallel() &&
         single.workload == parallel.workload && single.size == parallel.size &&
         single.placement.primary().id == parallel.placement.primary().id && single.numerics == parallel.numerics &&
         a.batch == b.batch && a.seq == b.seq && a.new_tokens == b.new_tokens && a.depth == b.depth &&
         single.repetition == parallel.repetition;
}

}  // namespace mlspeed
