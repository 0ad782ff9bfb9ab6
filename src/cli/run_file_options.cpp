#include "cli/run_file_options.h"

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"

namespace mlspeed::cli {
namespace {

OptionTable<ExportOptions> make_export_table() {
  using O = ExportOptions;
  using T = const std::string&;
  return {
      {"run", "RUN", "the run: an id, last, last-N, label:NAME (see `mlspeed history`)", "last", "",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("run: the name is empty; give a run id, last or label:NAME");
         o.run = t;
       }},
      output_option<O>("write the run file here", "standard output"),
      output_not_o_option<O>(),
      db_option<O>(),
  };
}

OptionTable<ImportOptions> make_import_table() {
  using O = ImportOptions;
  using T = const std::string&;
  return {
      {"file", "FILE", "a file written by `mlspeed export`, or by `mlspeed show -o json` / `-o jsonl`", std::nullopt,
       "", [](O& o, T t) { o.file = existing_file(t, "file"); }},
      label_option<O>("label the imported run (\"friend's m3max\"), replacing the file's", "the file's"),
      db_option<O>(),
  };
}

}  // namespace

const OptionTable<ExportOptions>& export_option_table() {
  static const OptionTable<ExportOptions> table = make_export_table();
  return table;
}

ExportOptions parse_export_options(const Given& given) { return parse_options(export_option_table(), given); }

const OptionTable<ImportOptions>& import_option_table() {
  static const OptionTable<ImportOptions> table = make_import_table();
  return table;
}

ImportOptions parse_import_options(const Given& given) {
  if (!given.count("file"))
    throw UsageError("import: give the file to import (`mlspeed export RUN > FILE` writes one)");
  return parse_options(import_option_table(), given);
}

}  // namespace mlspeed::cli
