// The safetensors format (huggingface/safetensors), read and written directly:
//
//   8 bytes   N, little-endian uint64: the length of the header
//   N bytes   a JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//             ..., optionally "__metadata__": {"key": "value", ...}}
//   the rest  the data buffer; each tensor's bytes are [begin, end) of it, row-major, little-endian
//
// Reading memory-maps the file and checks everything before any tensor is touched: the header
// length against the file size (and a sane limit), the JSON, every dtype, shape and offset, that
// each tensor's byte count is its shape times its dtype's size, that tensors lie inside the data
// buffer and do not overlap. Nothing is allocated from a size read out of the file without first
// checking it against the file's real size. Any violation is an InputFileError naming the file,
// the tensor and the byte offset.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/core/mapped_file.h"

namespace mlspeed::safetensors {

struct TensorInfo {
  std::string name;
  std::string dtype;            // as written: "F32", "F16", "BF16", "I64", ...
  at::ScalarType scalar_type;   // its LibTorch type
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data buffer
};

class File {
 public:
  // Maps and validates `path`; throws InputFileError.
  explicit File(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
  const TensorInfo* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // A CPU tensor over the mapped bytes (no copy): valid while this File lives; read-only in
  // spirit (the mapping is private, writes never reach the file). Throws InputFileError for an
  // unknown name.
  at::Tensor tensor(const std::string& name) const;

 private:
  std::string path_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  MappedFile map_;  // writable pages: tensors over them may be viewed as mutable
  const uint8_t* data_ = nullptr;  // the data buffer, after the header
};

// Writes `tensors` (any device, dtype, layout; copied to contiguous CPU memory) to `path` with
// the given metadata. Throws std::runtime_error naming the path when it cannot be written. Names
// must be unique.
void save(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata = {});

}  // namespace mlspeed::safetensors
