#include "mlspeed/compare/references.h"

#include <stdexcept>

#include "mlspeed/compare/reference_data.h"
#include "mlspeed/compare/run_file.h"

namespace mlspeed {
namespace {

// The files are part of the program and tested (references_unit_test.cpp): one that does not
// read is a build defect, not a user's mistake.
RunFile read_embedded(const EmbeddedReference& file) {
  try {
    return read_run_file(file.text, std::string("ref:") + file.name);
  } catch (const std::invalid_argument& e) {
    throw std::logic_error(std::string("bundled reference set '") + file.name + "' does not read: " + e.what());
  }
}

}  // namespace

std::vector<ReferenceInfo> list_references() {
  std::vector<ReferenceInfo> out;
  for (const EmbeddedReference& file : embedded_references()) {
    const RunFile read = read_embedded(file);
    out.push_back({file.name, read.description, read.citation, read.published});
  }
  return out;
}

std::optional<LoadedRun> load_reference(const std::string& name) {
  for (const EmbeddedReference& file : embedded_references())
    if (name == file.name) return read_embedded(file).run;
  return std::nullopt;
}

}  // namespace mlspeed
