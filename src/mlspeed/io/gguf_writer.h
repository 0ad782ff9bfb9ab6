// Writes GGUF version 3 files (the layout is in gguf.h) that mlspeed's reader and llama.cpp read.
//
// Metadata is written in the order it was first set (setting a key again replaces its value in
// place), then the tensor infos in the order the tensors were added, padding to the alignment,
// and each tensor's bytes at an aligned offset, padded to the alignment after it. The alignment
// is general.alignment when that is set (a uint32, a power of two), else 32, which is then not
// written (ggml's default).
//
// What a caller gets wrong is refused when it is given, as std::invalid_argument naming the key
// or tensor: an empty key or one that is not UTF-8, a tensor name empty, repeated, not UTF-8 or
// of 64 bytes or more (llama.cpp keeps names in 64-byte fields with their NUL), 1 to 4
// dimensions each at least 1, a row length that is not whole blocks of the format, or a byte
// count that is not storage_bytes(format, elements). write() writes beside `path` and renames
// over it, so a failure never leaves a half-written file; it throws std::runtime_error naming
// the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/core/weight_format.h"
#include "mlspeed/io/gguf.h"

namespace mlspeed::gguf {

class Writer {
 public:
  void set(const std::string& key, Value value);
  void set_uint8(const std::string& key, uint8_t v) { set(key, Value::u8(v)); }
  void set_int8(const std::string& key, int8_t v) { set(key, Value::i8(v)); }
  void set_uint16(const std::string& key, uint16_t v) { set(key, Value::u16(v)); }
  void set_int16(const std::string& key, int16_t v) { set(key, Value::i16(v)); }
  void set_uint32(const std::string& key, uint32_t v) { set(key, Value::u32(v)); }
  void set_int32(const std::string& key, int32_t v) { set(key, Value::i32(v)); }
  void set_uint64(const std::string& key, uint64_t v) { set(key, Value::u64(v)); }
  void set_int64(const std::string& key, int64_t v) { set(key, Value::i64(v)); }
  void set_float32(const std::string& key, float v) { set(key, Value::f32(v)); }
  void set_float64(const std::string& key, double v) { set(key, Value::f64(v)); }
  void set_bool(const std::string& key, bool v) { set(key, Value::boolean(v)); }
  void set_string(const std::string& key, std::string v) { set(key, Value::string(std::move(v))); }
  void set_string_array(const std::string& key, std::vector<std::string> v) {
    set(key, Value::string_array(std::move(v)));
  }
  void set_float_array(const std::string& key, const std::vector<float>& v) { set(key, Value::array(v)); }
  void set_int32_array(const std::string& key, const std::vector<int32_t>& v) { set(key, Value::array(v)); }
  void set_int64_array(const std::string& key, const std::vector<int64_t>& v) { set(key, Value::array(v)); }

  // A tensor of `dims` (ne order: dims[0] is the row length) in `format`. The first form copies
  // nothing: `bytes` must stay valid until write() returns. The second keeps the vector.
  void add_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format, const uint8_t* bytes,
                  size_t size);
  void add_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format,
                  std::vector<uint8_t> bytes);

  uint32_t alignment() const { return alignment_; }
  // The whole file; throws std::runtime_error naming `path` when it cannot be written.
  void write(const std::string& path) const;

 private:
  struct Pending {
    std::string name;
    std::vector<int64_t> dims;
    WeightFormat format;
    const uint8_t* bytes;  // the caller's, or null for `owned`
    size_t size;
    std::vector<uint8_t> owned;
  };
  void check_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format, size_t size) const;
  std::string head() const;  // everything before the data section, padded

  std::vector<KeyValue> metadata_;
  std::vector<Pending> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace mlspeed::gguf
