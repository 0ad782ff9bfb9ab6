// `mlspeed history`: the stored runs, newest first, with the ids `compare`, `show` and `export`
// take. The terminal table fits 120 columns (long labels, hosts and device names are cut with
// "…"); json and csv carry every field uncut.
#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/compare/history.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"

namespace mlspeed::cli {
namespace {

constexpr size_t kTableWidth = 120;
constexpr size_t kNarrowest = 8;  // a cut column still shows this much

size_t display_columns(const std::string& text) {  // UTF-8: count the bytes that start a character
  size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string cut(const std::string& text, size_t width) {
  if (display_columns(text) <= width) return text;
  size_t kept = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && kept++ == width - 1) break;
  }
  return text.substr(0, i) + "…";
}

// "NVIDIA H100 80GB HBM3" -> "H100 80GB HBM3"; the CPU is named by its id (its model is the host's).
std::string short_devices(const StoredRun& run) {
  std::string out;
  for (const DeviceFacts& d : run.context.devices) {
    std::string name = d.kind == "cpu" || d.name.empty() ? d.id : d.name;
    if (name.rfind("NVIDIA ", 0) == 0) name = name.substr(7);
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

std::vector<std::string> table_row(const StoredRun& run) {
  const HistoryRow r = history_row(run);
  std::string started = r.started_at.substr(0, 16);
  if (started.size() > 10) started[10] = ' ';
  return {std::to_string(r.id), started, printable(r.label), r.kind, r.status, printable(r.host),
          printable(short_devices(run)), r.torch_version, r.cuda_version.empty() ? "-" : r.cuda_version,
          std::to_string(r.rows)};
}

// Narrows the widest of the cuttable columns (label, host, devices) a character at a time until
// the table fits, so that each keeps as much as it can.
void fit(std::vector<std::vector<std::string>>& rows, const std::vector<std::string>& titles) {
  const std::vector<size_t> cuttable = {2, 5, 6};
  std::vector<size_t> widths(titles.size());
  for (size_t c = 0; c < titles.size(); ++c) widths[c] = std::max<size_t>(3, display_columns(titles[c]));  // "--:"
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_columns(row[c]));
  size_t total = 3 * titles.size() + 1;  // "| " before each cell, " " after, "|" at the end
  for (size_t w : widths) total += w;
  while (total > kTableWidth) {
    size_t widest = cuttable.front();
    for (size_t c : cuttable)
      if (widths[c] > widths[widest]) widest = c;
    if (widths[widest] <= std::max(kNarrowest, display_columns(titles[widest]))) break;
    --widths[widest];
    --total;
  }
  for (auto& row : rows)
    for (size_t c : cuttable) row[c] = cut(row[c], widths[c]);
}

// What to type next, with real ids: `compare` takes speed runs, so it is offered the newest two.
std::string next_steps(const std::vector<StoredRun>& runs) {
  std::vector<int64_t> speed;
  for (const StoredRun& run : runs)
    if (run.kind == RowType<Result>::kind && speed.size() < 2) speed.push_back(run.id);
  const std::string show = "show one: mlspeed show " + std::to_string(runs.front().id);
  if (speed.size() == 2)
    return "compare two runs: mlspeed compare " + std::to_string(speed[1]) + " " + std::to_string(speed[0]) + "   " +
           show;
  if (speed.size() == 1)
    return "compare with published figures: mlspeed compare " + std::to_string(speed[0]) +
           " ref:NAME (mlspeed compare --list-references)   " + show;
  return show;
}

void print_runs(const std::vector<StoredRun>& runs) {
  const std::vector<std::string> titles = {"id", "started (UTC)", "label", "kind", "status", "host", "devices",
                                           "LibTorch", "CUDA", "rows"};
  std::vector<std::vector<std::string>> rows;
  for (const StoredRun& run : runs) rows.push_back(table_row(run));
  fit(rows, titles);
  std::vector<bool> right(titles.size(), false);
  right[0] = right[9] = true;
  std::cout << markdown_table(titles, right, rows) << "\n" << next_steps(runs) << "\n";
}

void print_rows(Format format, const std::vector<StoredRun>& runs) {
  RowWriter writer = make_row_writer(format, std::cout, history_fields());
  writer.begin();
  for (const StoredRun& run : runs) writer.write(values_of(history_fields(), history_row(run)));
  writer.end();
}

bool filtered(const HistoryFilter& f) {
  return !(f.workload.empty() && f.device.empty() && f.since.empty() && f.label.empty());
}

}  // namespace

int history_command(const HistoryOptions& options) {
  const std::string path = options.db.empty() ? Database::default_path() : options.db;
  if (!path_exists(path))
    throw UsageError("no results database at " + path + " yet; `mlspeed run` creates it (or pass --db PATH)");
  const Database db(path, Database::Access::read_only);  // listing never changes the file
  const std::vector<StoredRun> runs = select_history(db, options.filter);
  if (options.format != Format::md) {
    print_rows(options.format, runs);
  } else if (runs.empty()) {
    std::cout << (filtered(options.filter) ? "no stored run matches these filters in " : "no runs stored yet in ")
              << path << "\n";
  } else {
    print_runs(runs);
  }
  for (const StoredRun& run : runs)
    if (!run.context_error.empty())
      std::cerr << "mlspeed history: " << one_line(run.context_error) << "; listed without its machine's facts\n";
  return 0;
}

}  // namespace mlspeed::cli
