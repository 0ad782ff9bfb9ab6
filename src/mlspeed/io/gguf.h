// The GGUF format (ggml's docs/gguf.md), versions 2 and 3, read directly; little-endian only.
//
//   "GGUF"                 magic, 4 bytes
//   uint32 version         2 or 3 (1, with 32-bit counts, is refused; a big-endian file's
//                          version reads as a huge number and is refused as big-endian)
//   uint64 tensor_count, uint64 kv_count
//   kv_count x             string key, uint32 value type, value (see ValueType; an array is
//                          uint32 element type, uint64 count, the elements; arrays may nest)
//   tensor_count x         string name, uint32 n_dims (1..4), uint64 ne[n_dims] (ne[0] the row
//                          length, the innermost dimension), uint32 ggml type, uint64 offset
//                          (into the data section, a multiple of the alignment)
//   padding                zeros up to a multiple of general.alignment (uint32, default 32)
//   the data section       each tensor's blocks, little-endian
//   (a string is uint64 length + that many bytes of UTF-8, no NUL)
//
// File maps the file read-only and checks everything before any of it is used: every count and
// length read from the file is checked against the bytes that are really left before anything
// is allocated from it (a 2^60-element array allocates nothing); every value of every type;
// keys unique, non-empty, valid UTF-8; string values valid UTF-8; arrays nested at most
// kMaxArrayDepth deep; tensor names unique, non-empty, valid UTF-8; 1 to 4 dimensions, each at
// least 1, their product (and the byte count) within int64; a tensor type mlspeed reads (any
// other is refused by its ggml name, with the list of those it reads); the row length a whole
// number of blocks; offsets aligned; every tensor inside the data section; no two overlapping.
// Every violation is an InputFileError "<path>: <what> at byte <offset>; <what was expected>".
//
// Nothing here includes LibTorch: the reader links into the fuzzer and the tools cheaply.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mlspeed/core/mapped_file.h"
#include "mlspeed/core/weight_format.h"

namespace mlspeed::gguf {

// The metadata value types, with their ids in the file.
enum class ValueType : uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, boolean = 7,
  string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
// "uint32", "float32", "bool", "string", "array", ...; "type N" for an id GGUF never defined.
std::string type_name(uint32_t id);
inline std::string type_name(ValueType t) { return type_name(static_cast<uint32_t>(t)); }
// The bytes a scalar of type `t` takes in the file; 0 for string and array.
size_t scalar_bytes(ValueType t);

// Arrays nest at most this deep (an array of arrays of scalars is depth 2): the spec allows
// nesting, and a file of 12-byte one-element arrays must not recurse the reader off its stack.
constexpr int kMaxArrayDepth = 8;

// One metadata value. Scalars keep their bytes as the file has them; a scalar array keeps all its
// elements in one byte buffer (a 32,000-entry score or token-type list costs one allocation, not
// one per element); a string array (a vocabulary, 280,000 merges), one std::string per element.
class Value {
 public:
  static Value u8(uint8_t v) { return Value(ValueType::uint8, v); }
  static Value i8(int8_t v) { return Value(ValueType::int8, static_cast<uint8_t>(v)); }
  static Value u16(uint16_t v) { return Value(ValueType::uint16, v); }
  static Value i16(int16_t v) { return Value(ValueType::int16, static_cast<uint16_t>(v)); }
  static Value u32(uint32_t v) { return Value(ValueType::uint32, v); }
  static Value i32(int32_t v) { return Value(ValueType::int32, static_cast<uint32_t>(v)); }
  static Value u64(uint64_t v) { return Value(ValueType::uint64, v); }
  static Value i64(int64_t v) { return Value(ValueType::int64, static_cast<uint64_t>(v)); }
  static Value f32(float v) { return Value(ValueType::float32, bits_of(v)); }
  static Value f64(double v) { return Value(ValueType::float64, bits_of(v)); }
  static Value boolean(bool v) { return Value(ValueType::boolean, v ? 1 : 0); }
  static Value string(std::string v) {
    Value out(ValueType::string, 0);
    out.string_ = std::move(v);
    return out;
  }
  // Arrays: of one scalar type, given by T (uint8_t ... int64_t, float, double, bool), or of
  // strings, or of arrays (every element an array, each with its own element type).
  template <class T> static Value array(const std::vector<T>& elements);  // in gguf_writer.cpp
  static Value string_array(std::vector<std::string> elements) {
    Value out(ValueType::array, 0);
    out.element_type_ = ValueType::string;
    out.strings_ = std::move(elements);
    return out;
  }
  static Value array_of_arrays(std::vector<Value> elements);
  // A scalar of `type` from its bytes as the file stores them (little-endian, zero-extended), and
  // an array of scalars of `element_type` from theirs: the reader's way in. std::invalid_argument
  // for a string or array type, bytes that are not whole elements, or a bool neither 0 nor 1.
  static Value from_bits(ValueType type, uint64_t bits);
  static Value scalar_array(ValueType element_type, std::vector<uint8_t> bytes);

  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::array; }
  // "uint32", "string", "array of float32", "array of array": for messages.
  std::string type_label() const { return is_array() ? "array of " + type_name(element_type_) : type_name(type_); }

  // Scalars. Each is empty when the value is not of a fitting type: as_uint takes any integer
  // type holding a value >= 0, as_int any integer type holding a value within int64, as_float
  // float32 or float64.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const {
    return type_ == ValueType::boolean ? std::optional<bool>(bits_ != 0) : std::nullopt;
  }
  const std::string* as_string() const { return type_ == ValueType::string ? &string_ : nullptr; }
  // The scalar's bytes as the file stores them, little-endian, zero-extended to 64 bits.
  uint64_t bits() const { return bits_; }

  // Arrays (precondition: is_array()).
  ValueType element_type() const { return element_type_; }
  size_t size() const;
  Value scalar_at(size_t i) const;  // precondition: a scalar element type, i < size()
  const std::vector<std::string>& strings() const { return strings_; }  // a string array's
  const std::vector<Value>& arrays() const { return arrays_; }          // an array of arrays'

 private:
  Value(ValueType type, uint64_t bits) : type_(type), bits_(bits) {}
  template <class T> static uint64_t bits_of(T v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    return bits;
  }
  ValueType type_;
  ValueType element_type_ = ValueType::uint8;
  uint64_t bits_ = 0;
  std::string string_;
  std::vector<uint8_t> raw_;  // a scalar array's elements, as in the file
  std::vector<std::string> strings_;
  std::vector<Value> arrays_;
};

struct KeyValue {
  std::string key;
  Value value;
  uint64_t offset = 0;  // the byte where the value starts (its type id), for messages
};

// The metadata in file order, with lookup by key.
class Metadata {
 public:
  const KeyValue* find(const std::string& key) const;  // null when absent
  const std::vector<KeyValue>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  std::vector<KeyValue>::const_iterator begin() const { return entries_.begin(); }
  std::vector<KeyValue>::const_iterator end() const { return entries_.end(); }
  // Appends; false (and nothing added) when the key is already there.
  bool add(KeyValue entry);

 private:
  std::vector<KeyValue> entries_;
  std::unordered_map<std::string, size_t> index_;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ne order: dims[0] is the row length, the innermost dimension
  WeightFormat format = WeightFormat::f32;
  uint64_t offset = 0;  // into the data section
  uint64_t bytes = 0;   // storage_bytes(format, elements())
  int64_t elements() const;
};

class File {
 public:
  // Maps and validates `path`; throws InputFileError.
  explicit File(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  // Where the data section starts: the end of the tensor infos rounded up to the alignment (past
  // the end of a file without tensors that ends unpadded, which ggml's writer never makes).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return map_.size(); }

  const Metadata& metadata() const { return metadata_; }
  // Typed getters: InputFileError naming the key when it is absent or of another type (see
  // Value's as_* for what each takes). The find_ forms are empty when the key is absent and
  // throw only for a value of another type.
  std::string get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<float> get_float_array(const std::string& key) const;    // float32 or float64 elements
  std::vector<int64_t> get_int_array(const std::string& key) const;    // integer elements within int64
  std::optional<std::string> find_string(const std::string& key) const;
  std::optional<uint64_t> find_uint(const std::string& key) const;
  std::optional<double> find_float(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;
  std::optional<std::vector<std::string>> find_string_array(const std::string& key) const;
  std::optional<std::vector<float>> find_float_array(const std::string& key) const;
  std::optional<std::vector<int64_t>> find_int_array(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
  const TensorInfo* find(const std::string& name) const;               // null when absent
  // The tensor's bytes in the mapping (info.bytes of them), valid while this File lives.
  const uint8_t* data(const TensorInfo& info) const;

 private:
  // The value of `key` converted by `convert` (empty when absent and not `required`), or an
  // InputFileError saying what it is instead of `expected`.
  template <class T, class Convert>
  std::optional<T> lookup(const std::string& key, bool required, const char* expected, Convert convert) const;

  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  Metadata metadata_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  MappedFile map_;  // the whole file, read-only
};

// The byte offset of the first invalid UTF-8 sequence in `text` (a stray continuation byte, a
// byte that starts none, a truncated sequence, an overlong form, a surrogate, a code point past
// U+10FFFF); empty when all of it is valid. Shared by the reader and the writer.
std::optional<size_t> invalid_utf8_offset(std::string_view text);

}  // namespace mlspeed::gguf
