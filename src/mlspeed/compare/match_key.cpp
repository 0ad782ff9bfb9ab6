#include "mlspeed/compare/match_key.h"

#include "mlspeed/results/shape_label.h"

namespace mlspeed {

std::string device_kind(const std::string& device) { return device.substr(0, device.find(':')); }

MatchKey match_key(const Result& row, DeviceMatch device) {
  MatchKey key;
  key.workload = row.workload;
  key.size = row.size;
  key.dtype = std::string(name(row.precision));
  key.weights = std::string(name(stored_weights(row)));
  key.kernels = std::string(name(row.kernels));
  key.batch = row.batch;
  key.seq_len = row.seq_len;
  key.new_tokens = row.new_tokens;
  key.depth = row.depth;
  key.world_size = is_data_parallel(row) ? row.world_size : 0;
  key.shape = shape_label(row);
  // A graph replay and eager launches time different things (the GPU's work vs the host's
  // launches too), so they are different configurations; a fallback to eager is eager.
  // Across the devices of one run the timing is the device's (a CPU has no graphs), not part of
  // the configuration.
  const bool replayed = row.graphs == GraphUse::step || row.graphs == GraphUse::tokens;
  if (device == DeviceMatch::kind) {
    key.timing = replayed ? "graph" : "eager";
    key.device = device_kind(row.device);
  }
  return key;
}

std::string describe(const MatchKey& key) {
  std::string text = key.workload + (key.size == "full" ? "" : " (" + key.size + ")") + " " + key.dtype + " ";
  const std::optional<ModelFormat> weights = parse_model_format(key.weights);
  if (weights && is_quantized(*weights)) text += key.weights + " ";
  text += key.shape;
  if (key.timing == "graph") text += " graph";
  if (key.world_size > 0) text += " ddp x" + std::to_string(key.world_size);
  if (key.kernels == "libtorch") text += " libtorch-kernels";
  if (!key.device.empty()) text += " (" + key.device + ")";
  return text;
}

}  // namespace mlspeed
