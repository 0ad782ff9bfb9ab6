// The reference sets: figures published by the sources mlspeed comes from (measured by other code
// on other machines), and mlspeed's own recorded GPU runs from results/, bundled into the program
// so that `compare last ref:NAME` and `report` can set a machine beside them offline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mlspeed/compare/loaded_run.h"

namespace mlspeed {

struct ReferenceInfo {
  std::string name;         // as in ref:NAME, e.g. "bert-t4"
  std::string description;  // "BERT-base inference on a Tesla T4 (Kaggle), PyTorch eager"
  std::string citation;     // where it was published, with its address
  bool published = true;    // false for mlspeed's own recorded runs
};

std::vector<ReferenceInfo> list_references();
// nullopt when no reference set has that name.
std::optional<LoadedRun> load_reference(const std::string& name);

}  // namespace mlspeed
