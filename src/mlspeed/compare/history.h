// The stored runs as `mlspeed history` lists them: which runs (newest first, filtered) and one row
// per run with what tells them apart (when, label, kind, status, host, devices, LibTorch/CUDA
// versions, rows), declared as a field list so that json and csv come from results/formats.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/results/database.h"
#include "mlspeed/results/field_list.h"

namespace mlspeed {

struct HistoryFilter {
  std::string workload;  // runs with a row of this workload (verify: a model check of it)
  std::string device;    // runs with a row on this device; a kind ("cuda") matches every index
  std::string since;     // runs started at or after this (YYYY-MM-DD or an ISO 8601 time), UTC
  std::string label;     // runs labelled exactly this
  int64_t limit = 0;     // the newest N of those; 0: all
};

// `text` checked as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]; throws std::invalid_argument saying
// which forms are taken.
std::string parse_since(const std::string& text);

// The runs of `db` that pass `filter`, newest first.
std::vector<StoredRun> select_history(const Database& db, const HistoryFilter& filter);

struct HistoryRow {
  int64_t id = 0;
  std::string started_at, label, kind, status, host;
  std::string devices;  // each device's id and name: "cpu (Intel Xeon Platinum 8480+), cuda:0 (NVIDIA H100 80GB HBM3)"
  std::string torch_version, cuda_version;
  int64_t rows = 0;
  std::string command;
};

HistoryRow history_row(const StoredRun& run);
const std::vector<BasicField<HistoryRow>>& history_fields();

}  // namespace mlspeed
