// The reference sets' files, references/*.json at the top of the repository, embedded into the
// program when it is built (CMakeLists.txt writes reference_data.cpp from reference_data.cpp.in),
// so that no file is looked up at run time.
#pragma once

#include <vector>

namespace mlspeed {

struct EmbeddedReference {
  const char* name;  // the file name without .json: "bert-t4"
  const char* text;  // the file, a run file (run_file.h) with a citation and a description
};

const std::vector<EmbeddedReference>& embedded_references();

}  // namespace mlspeed
