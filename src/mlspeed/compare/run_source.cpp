#include "mlspeed/compare/run_source.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

#include "mlspeed/compare/references.h"
#include "mlspeed/compare/run_file.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/row_table.h"

namespace mlspeed {
namespace {

constexpr const char* kForms = "a run id, last, last-N, label:NAME, ref:NAME or the path of an exported file";

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A whole number from `digits` (all digits), or nullopt when it is too large to be an id.
std::optional<int64_t> to_id(const std::string& digits) {
  try {
    return std::stoll(digits);
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

Database open_database(const std::string& spec, const std::string& db_path) {
  const std::string path = db_path.empty() ? Database::default_path() : db_path;
  if (!path_exists(path))
    throw UsageError("'" + spec + "' names a run of the results database, and there is none at " + path +
                     " yet; `mlspeed run` creates it (or pass --db PATH)");
  return Database(path, Database::Access::read_only);
}

LoadedRun from_database(const Database& db, const StoredRun& run, const std::string& name) {
  // Comparing, showing or reporting a run without its machine would say less than it claims.
  if (!run.context_error.empty())
    throw UsageError(run.context_error + "; the other runs are still readable (`mlspeed history` lists them)");
  LoadedRun loaded;
  loaded.name = name;
  loaded.run = run;
  const bool known = RowKinds::visit(run.kind, [&](auto kind) {
    using Row = typename decltype(kind)::type;
    loaded.rows<Row>() = load_rows<Row>(db, run.id);
  });
  if (!known)
    throw UsageError(name + " in " + db.path() + " has kind '" + excerpt(run.kind) + "', which this mlspeed cannot read (" +
                     RowKinds::kinds() + "); a newer mlspeed wrote it");
  return loaded;
}

std::string run_id_list(const std::vector<StoredRun>& runs) {
  if (runs.empty()) return "it holds no runs yet";
  return "its runs are " + std::to_string(runs.back().id) + " to " + std::to_string(runs.front().id) +
         " (`mlspeed history` lists them)";
}

LoadedRun by_id(const std::string& spec, const std::string& db_path) {
  const Database db = open_database(spec, db_path);
  const std::optional<int64_t> id = to_id(spec);
  const std::optional<StoredRun> run = id ? db.run(*id) : std::nullopt;
  if (!run) throw UsageError("no run " + spec + " in " + db.path() + "; " + run_id_list(db.runs()));
  return from_database(db, *run, "run " + spec);
}

// "last" is the newest run, "last-N" the one N before it.
LoadedRun by_age(const std::string& spec, const std::string& db_path) {
  const std::string back = spec.substr(4);
  if (!back.empty() && !(back[0] == '-' && all_digits(back.substr(1))))
    throw UsageError("'" + spec + "' is not a run name; give " + kForms);
  const Database db = open_database(spec, db_path);
  const std::vector<StoredRun> runs = db.runs();
  if (runs.empty()) throw UsageError(db.path() + " holds no runs yet; `mlspeed run` adds one");
  const std::optional<int64_t> n = back.empty() ? 0 : to_id(back.substr(1));
  if (!n || *n >= static_cast<int64_t>(runs.size()))
    throw UsageError("'" + spec + "': " + db.path() + " holds only " + std::to_string(runs.size()) + " run" +
                     (runs.size() == 1 ? "" : "s") + " (last to last-" + std::to_string(runs.size() - 1) + ")");
  const StoredRun& run = runs[static_cast<size_t>(*n)];
  return from_database(db, run, "run " + std::to_string(run.id));
}

// The newest run carrying the label.
LoadedRun by_label(const std::string& spec, const std::string& db_path) {
  const std::string label = spec.substr(6);
  if (label.empty()) throw UsageError("'label:' names no label; give label:NAME, as given to run --label NAME");
  const Database db = open_database(spec, db_path);
  const std::vector<StoredRun> runs = db.runs();
  for (const StoredRun& run : runs)
    if (run.label == label) return from_database(db, run, spec);
  std::vector<std::string> labels;
  for (const StoredRun& run : runs)
    if (!run.label.empty() && std::find(labels.begin(), labels.end(), run.label) == labels.end())
      labels.push_back(run.label);
  throw UsageError("no run labelled '" + printable(label) + "' in " + db.path() + "; " +
                   (labels.empty() ? "no run there has a label (run --label NAME gives one)"
                                   : "labels there: " + printable(join(labels, ", "))));
}

LoadedRun by_reference(const std::string& spec) {
  const std::string name = spec.substr(4);
  if (std::optional<LoadedRun> run = load_reference(name)) return *run;
  std::vector<std::string> names;
  for (const ReferenceInfo& info : list_references()) names.push_back(info.name);
  throw UsageError("no reference set '" + printable(name) + "'; reference sets: " +
                   (names.empty() ? "none are bundled" : join(names, ", ")) +
                   " (`mlspeed compare --list-references` describes them)");
}

LoadedRun from_file(const std::string& spec) {
  const std::string why = not_a_regular_file(spec);
  if (!why.empty()) throw UsageError("'" + spec + "' " + why + "; give " + kForms);
  const std::optional<std::string> text = read_whole_file(spec);
  if (!text) throw UsageError(spec + " cannot be read; check its permissions");
  try {
    return read_run_file(*text, spec).run;
  } catch (const std::invalid_argument& e) {
    throw UsageError(spec + " cannot be read as a run: " + e.what());
  }
}

}  // namespace

LoadedRun load_run(const std::string& spec, const std::string& db_path) {
  if (spec.empty()) throw UsageError("an empty run name; give " + std::string(kForms));
  if (starts_with(spec, "ref:")) return by_reference(spec);
  if (starts_with(spec, "label:")) return by_label(spec, db_path);
  if (all_digits(spec)) return by_id(spec, db_path);
  if (starts_with(spec, "last") && !path_exists(spec)) return by_age(spec, db_path);
  if (path_exists(spec)) return from_file(spec);
  throw UsageError("'" + printable(spec) + "' is neither a run name nor an existing file; give " + kForms);
}

}  // namespace mlspeed
