#include "mlspeed/io/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed::gguf {

// Scalars are copied out of the mapping as the host stores them: mlspeed reads little-endian
// files on little-endian hosts only (tensor data is used in place, so it could not be otherwise).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the GGUF reader assumes a little-endian host");

namespace {

constexpr uint64_t kGgufInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr const char* kGgufTypeNames[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32", "float32",
                                          "bool",  "string", "array",  "uint64", "int64",  "float64"};
constexpr uint32_t kGgufTypeCount = 13;
// The fewest bytes one kv pair or tensor info can take (an empty key or name, the smallest
// value; one dimension): a count in the header beyond what the rest of the file could hold is
// refused before anything is read or allocated from it.
constexpr uint64_t kGgufMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kGgufMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;

// An integer scalar's value, sign-extended for the signed types.
int64_t gguf_signed_value(ValueType t, uint64_t bits) {
  switch (t) {
    case ValueType::int8: return static_cast<int8_t>(bits);
    case ValueType::int16: return static_cast<int16_t>(bits);
    case ValueType::int32: return static_cast<int32_t>(bits);
    default: return static_cast<int64_t>(bits);
  }
}

bool gguf_is_signed(ValueType t) {
  return t == ValueType::int8 || t == ValueType::int16 || t == ValueType::int32 || t == ValueType::int64;
}
bool gguf_is_unsigned(ValueType t) {
  return t == ValueType::uint8 || t == ValueType::uint16 || t == ValueType::uint32 || t == ValueType::uint64;
}

template <class To, class From> To gguf_bit_cast(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

}  // namespace

std::string type_name(uint32_t id) {
  return id < kGgufTypeCount ? kGgufTypeNames[id] : "type " + std::to_string(id);
}

size_t scalar_bytes(ValueType t) {
  constexpr size_t kBytes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};  // in kGgufTypeNames' order
  const auto id = static_cast<uint32_t>(t);
  return id < kGgufTypeCount ? kBytes[id] : 0;
}

std::optional<size_t> invalid_utf8_offset(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    char32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;  // a continuation byte, or one that starts nothing
    if (n - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

// --- Value ---------------------------------------------------------------------------------

Value Value::from_bits(ValueType type, uint64_t bits) {
  const size_t size = scalar_bytes(type);
  if (size == 0) throw std::invalid_argument("gguf::Value::from_bits: " + type_name(type) + " is not a scalar type");
  if (type == ValueType::boolean && bits > 1)
    throw std::invalid_argument("gguf::Value::from_bits: a bool of " + std::to_string(bits));
  return Value(type, size == 8 ? bits : bits & ((uint64_t{1} << (8 * size)) - 1));
}

Value Value::scalar_array(ValueType element_type, std::vector<uint8_t> bytes) {
  const size_t size = scalar_bytes(element_type);
  if (size == 0 || bytes.size() % size != 0)
    throw std::invalid_argument("gguf::Value::scalar_array: " + std::to_string(bytes.size()) +
                                " bytes are not whole " + type_name(element_type) + " elements");
  if (element_type == ValueType::boolean && std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b > 1; }))
    throw std::invalid_argument("gguf::Value::scalar_array: a bool that is neither 0 nor 1");
  Value out(ValueType::array, 0);
  out.element_type_ = element_type;
  out.raw_ = std::move(bytes);
  return out;
}

Value Value::array_of_arrays(std::vector<Value> elements) {
  for (const Value& e : elements)
    if (!e.is_array()) throw std::invalid_argument("gguf::Value::array_of_arrays: an element is a " + e.type_label());
  Value out(ValueType::array, 0);
  out.element_type_ = ValueType::array;
  out.arrays_ = std::move(elements);
  return out;
}

std::optional<uint64_t> Value::as_uint() const {
  if (gguf_is_unsigned(type_)) return bits_;
  if (gguf_is_signed(type_) && gguf_signed_value(type_, bits_) >= 0)
    return static_cast<uint64_t>(gguf_signed_value(type_, bits_));
  return std::nullopt;
}

std::optional<int64_t> Value::as_int() const {
  if (gguf_is_signed(type_)) return gguf_signed_value(type_, bits_);
  if (gguf_is_unsigned(type_) && bits_ <= kGgufInt64Max) return static_cast<int64_t>(bits_);
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (type_ == ValueType::float64) return gguf_bit_cast<double>(bits_);
  if (type_ == ValueType::float32) return gguf_bit_cast<float>(static_cast<uint32_t>(bits_));
  return std::nullopt;
}

size_t Value::size() const {
  if (element_type_ == ValueType::string) return strings_.size();
  if (element_type_ == ValueType::array) return arrays_.size();
  return raw_.size() / scalar_bytes(element_type_);
}

Value Value::scalar_at(size_t i) const {
  const size_t size = scalar_bytes(element_type_);
  if (!is_array() || size == 0 || i >= raw_.size() / size)
    throw std::out_of_range("gguf::Value::scalar_at: no scalar element " + std::to_string(i));
  uint64_t bits = 0;
  std::memcpy(&bits, raw_.data() + i * size, size);
  return from_bits(element_type_, bits);
}

// --- Metadata, TensorInfo ------------------------------------------------------------------

const KeyValue* Metadata::find(const std::string& key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

bool Metadata::add(KeyValue entry) {
  if (!index_.emplace(entry.key, entries_.size()).second) return false;
  entries_.push_back(std::move(entry));
  return true;
}

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // the reader and the writer keep the product within int64
  return n;
}

// --- the parse -----------------------------------------------------------------------------

namespace {

struct GgufParsed {
  uint32_t version = 0;
  uint32_t alignment = 32;
  uint64_t data_offset = 0;
  Metadata metadata;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string, size_t> tensor_index;  // name -> position in `tensors`
  std::vector<uint64_t> offset_at;  // per tensor: the byte of its offset field, for messages
};

// A field's name for a message, built only when a message needs it: a reference to any callable
// returning it. Not a template parameter: arrays nest, and each level wraps the name in a new
// lambda, which would instantiate the parse without end.
class GgufWhat {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<F, GgufWhat>>>
  GgufWhat(const F& f) : callable_(&f), call_([](const void* c) { return (*static_cast<const F*>(c))(); }) {}
  std::string operator()() const { return call_(callable_); }

 private:
  const void* callable_;
  std::string (*call_)(const void*);
};

// Reads the mapped bytes front to back. Every read checks the bytes left first; a field's name
// for a message is built only when it is needed (`what` is a callable returning it).
class GgufParser {
 public:
  GgufParser(const std::string& path, const uint8_t* bytes, uint64_t size)
      : path_(path), bytes_(bytes), size_(size) {}

  GgufParsed parse();

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what, const std::string& expected) const {
    throw InputFileError(path_ + ": " + what + " at byte " + std::to_string(at) + "; " + expected);
  }
  uint64_t left() const { return size_ - pos_; }
  void need(uint64_t n, const GgufWhat& what) const {
    if (n > left())
      fail(pos_, "the file ends inside " + what(),
           "expected " + std::to_string(n) + " bytes there, " + std::to_string(left()) +
               " are left: the file is truncated");
  }
  template <class T> T scalar(const GgufWhat& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string string(const GgufWhat& what);
  Value value(uint32_t type, int depth, const GgufWhat& what);
  Value array(int depth, const GgufWhat& what);
  void header();
  void metadata();
  void alignment();
  void tensor_info(uint64_t index);
  void data_section();

  const std::string& path_;
  const uint8_t* bytes_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0, kv_count_ = 0;
  GgufParsed out_;
};

std::string GgufParser::string(const GgufWhat& what) {
  const uint64_t at = pos_;
  const uint64_t length = scalar<uint64_t>([&] { return "the length of " + what(); });
  if (length > left())
    fail(at, "the length of " + what() + " says " + std::to_string(length) + " bytes",
         "expected at most the " + std::to_string(left()) + " bytes left in the file: it is truncated or damaged");
  std::string text(reinterpret_cast<const char*>(bytes_ + pos_), length);
  if (const auto bad = invalid_utf8_offset(text))
    fail(pos_ + *bad, what() + " (\"" + excerpt(text.substr(0, *bad)) + "\" then byte " +
                          printf_string("0x%02x", static_cast<unsigned char>(text[*bad])) + ") is not valid UTF-8",
         "expected UTF-8 text");
  pos_ += length;
  return text;
}

Value GgufParser::value(uint32_t type, int depth, const GgufWhat& what) {
  const uint64_t at = pos_;
  switch (static_cast<ValueType>(type)) {
    case ValueType::string: return Value::string(string(what));
    case ValueType::array: return array(depth + 1, what);
    case ValueType::boolean: {
      const uint8_t b = scalar<uint8_t>(what);
      if (b > 1) fail(at, what() + " is a bool of " + std::to_string(b), "expected 0 (false) or 1 (true)");
      return Value::boolean(b != 0);
    }
    case ValueType::float32: return Value::f32(scalar<float>(what));
    case ValueType::float64: return Value::f64(scalar<double>(what));
    default: break;
  }
  if (type >= kGgufTypeCount)
    fail(at - 4, what() + " has value type " + std::to_string(type),
         "expected a GGUF value type, 0 (uint8) to 12 (float64)");
  const size_t size = scalar_bytes(static_cast<ValueType>(type));
  need(size, what);
  uint64_t bits = 0;
  std::memcpy(&bits, bytes_ + pos_, size);
  pos_ += size;
  return Value::from_bits(static_cast<ValueType>(type), bits);
}

Value GgufParser::array(int depth, const GgufWhat& what) {
  const uint64_t at = pos_;
  if (depth > kMaxArrayDepth)
    fail(at, what() + " nests arrays " + std::to_string(depth) + " deep",
         "expected at most " + std::to_string(kMaxArrayDepth));
  const uint32_t type = scalar<uint32_t>([&] { return "the element type of " + what(); });
  if (type >= kGgufTypeCount)
    fail(at, what() + " is an array of value type " + std::to_string(type),
         "expected a GGUF value type, 0 (uint8) to 12 (float64)");
  const auto element_type = static_cast<ValueType>(type);
  const uint64_t count = scalar<uint64_t>([&] { return "the element count of " + what(); });
  // Checked before anything is allocated from it: each element takes at least this many bytes.
  const uint64_t min_bytes = element_type == ValueType::string  ? 8
                             : element_type == ValueType::array ? 12
                                                                : scalar_bytes(element_type);
  if (count > left() / min_bytes)
    fail(at + 4, what() + " says it holds " + std::to_string(count) + " " + type_name(type) + " elements",
         "expected at most the " + std::to_string(left() / min_bytes) + " that the " + std::to_string(left()) +
             " bytes left in the file could hold: it is truncated or damaged");
  const auto element = [&](uint64_t i) { return "element " + std::to_string(i) + " of " + what(); };
  if (element_type == ValueType::string) {
    std::vector<std::string> strings;
    strings.reserve(count);
    for (uint64_t i = 0; i < count; ++i) strings.push_back(string([&] { return element(i); }));
    return Value::string_array(std::move(strings));
  }
  if (element_type == ValueType::array) {
    std::vector<Value> arrays;
    arrays.reserve(count);
    for (uint64_t i = 0; i < count; ++i) arrays.push_back(array(depth + 1, [&] { return element(i); }));
    return Value::array_of_arrays(std::move(arrays));
  }
  const uint64_t bytes = count * min_bytes;
  if (element_type == ValueType::boolean)
    for (uint64_t i = 0; i < count; ++i)
      if (bytes_[pos_ + i] > 1)
        fail(pos_ + i, element(i) + " is a bool of " + std::to_string(bytes_[pos_ + i]),
             "expected 0 (false) or 1 (true)");
  std::vector<uint8_t> raw(bytes_ + pos_, bytes_ + pos_ + bytes);
  pos_ += bytes;
  return Value::scalar_array(element_type, std::move(raw));
}

void GgufParser::header() {
  need(4, [] { return std::string("the magic (\"GGUF\")"); });
  if (std::memcmp(bytes_, "GGUF", 4) != 0) {
    std::string seen;
    for (int i = 0; i < 4; ++i)
      seen += bytes_[i] >= 0x20 && bytes_[i] < 0x7f ? std::string(1, static_cast<char>(bytes_[i]))
                                                    : printf_string("\\x%02x", bytes_[i]);
    fail(0, "the magic is \"" + seen + "\"", "expected \"GGUF\": this is not a GGUF file");
  }
  pos_ = 4;
  const uint32_t version = scalar<uint32_t>([] { return std::string("the version"); });
  if (version == 1)
    fail(4, "GGUF version 1", "expected version 2 or 3 (version 1, with 32-bit counts, is no longer read: "
                              "convert the model again with a current llama.cpp)");
  if (version != 0 && (version & 0xFFFF) == 0)
    fail(4, "the version reads as " + std::to_string(version) + " (" + printf_string("0x%08x", version) +
                "): this is a big-endian GGUF file",
         "expected a little-endian file of version 2 or 3 (mlspeed reads little-endian files only)");
  if (version != 2 && version != 3) fail(4, "GGUF version " + std::to_string(version), "expected version 2 or 3");
  out_.version = version;
  tensor_count_ = scalar<uint64_t>([] { return std::string("the tensor count"); });
  kv_count_ = scalar<uint64_t>([] { return std::string("the metadata count"); });
  const auto check = [&](uint64_t count, uint64_t min_bytes, uint64_t at, const char* things) {
    if (count > left() / min_bytes)
      fail(at, "the header says " + std::to_string(count) + " " + things,
           "expected at most the " + std::to_string(left() / min_bytes) + " that the " + std::to_string(left()) +
               " bytes after the header could hold: the file is truncated or damaged");
  };
  check(kv_count_, kGgufMinKvBytes, 16, "metadata entries");
  check(tensor_count_, kGgufMinTensorInfoBytes, 8, "tensors");
}

void GgufParser::metadata() {
  for (uint64_t i = 0; i < kv_count_; ++i) {
    const uint64_t at = pos_;
    std::string key = string([&] { return "the key of metadata entry " + std::to_string(i); });
    if (key.empty()) fail(at, "metadata entry " + std::to_string(i) + " has an empty key", "expected a key");
    const auto what = [&] { return "metadata '" + excerpt(key) + "'"; };
    if (out_.metadata.find(key)) fail(at, what() + " appears twice", "expected each key once");
    const uint64_t value_at = pos_;
    const uint32_t type = scalar<uint32_t>([&] { return "the value type of " + what(); });
    Value v = value(type, 0, what);
    out_.metadata.add({std::move(key), std::move(v), value_at});
  }
}

void GgufParser::alignment() {
  const KeyValue* kv = out_.metadata.find("general.alignment");
  if (!kv) return;
  if (kv->value.type() != ValueType::uint32)
    fail(kv->offset, "general.alignment is a " + kv->value.type_label(), "expected a uint32, a power of two");
  const uint64_t a = kv->value.bits();
  if (a == 0 || (a & (a - 1)) != 0)
    fail(kv->offset, "general.alignment is " + std::to_string(a), "expected a power of two (ggml's default is 32)");
  out_.alignment = static_cast<uint32_t>(a);
}

void GgufParser::tensor_info(uint64_t index) {
  const uint64_t at = pos_;
  TensorInfo info;
  info.name = string([&] { return "the name of tensor " + std::to_string(index); });
  if (info.name.empty()) fail(at, "tensor " + std::to_string(index) + " has an empty name", "expected a name");
  const std::string name = "tensor '" + excerpt(info.name) + "'";
  if (!out_.tensor_index.emplace(info.name, index).second) fail(at, name + " appears twice", "expected each name once");
  const uint64_t dims_at = pos_;
  const uint32_t n_dims = scalar<uint32_t>([&] { return "the dimension count of " + name; });
  if (n_dims < 1 || n_dims > 4)
    fail(dims_at, name + " has " + std::to_string(n_dims) + " dimensions", "expected 1 to 4 (ggml's limit)");
  uint64_t elements = 1;
  for (uint32_t j = 0; j < n_dims; ++j) {
    const uint64_t ne_at = pos_;
    const std::string dim = "dimension " + std::to_string(j) + (j == 0 ? " (the row length)" : "") + " of " + name;
    const uint64_t ne = scalar<uint64_t>([&] { return dim; });
    if (ne == 0) fail(ne_at, dim + " is 0", "expected at least 1: an empty tensor holds no weights");
    if (ne > kGgufInt64Max / elements)
      fail(ne_at, dim + " is " + std::to_string(ne) + ": the element count overflows",
           "expected dimensions whose product fits in a signed 64-bit integer");
    elements *= ne;
    info.dims.push_back(static_cast<int64_t>(ne));
  }
  const uint64_t type_at = pos_;
  const uint32_t type = scalar<uint32_t>([&] { return "the type of " + name; });
  const std::optional<WeightFormat> format = format_of_ggml_type(type);
  if (!format) {
    const std::string known = ggml_type_name(type), id = std::to_string(type);
    const std::string label =
        known == "type " + id ? "ggml type " + id + " (unknown to ggml)" : known + " (ggml type " + id + ")";
    throw InputFileError(path_ + ": " + name + " is " + label + " at byte " + std::to_string(type_at) +
                         ", which mlspeed does not read; it reads " + supported_ggml_types());
  }
  info.format = *format;
  const WeightFormatTraits& t = traits(*format);
  if (static_cast<uint64_t>(info.dims[0]) % t.block_elements != 0)
    fail(dims_at + 4,
         name + " (" + std::string(t.gguf_name) + ") has rows of " + std::to_string(info.dims[0]) + " elements",
         "expected a multiple of " + std::to_string(t.block_elements) + ", the " + std::string(t.gguf_name) + " block");
  const uint64_t blocks = elements / t.block_elements;
  if (blocks > kGgufInt64Max / t.block_bytes)
    fail(dims_at, name + " has " + std::to_string(elements) + " elements: its byte count overflows",
         "expected a size in bytes that fits in a signed 64-bit integer");
  info.bytes = blocks * t.block_bytes;
  const uint64_t offset_at = pos_;
  info.offset = scalar<uint64_t>([&] { return "the data offset of " + name; });
  if (info.offset % out_.alignment != 0)
    fail(offset_at, name + " has data offset " + std::to_string(info.offset),
         "expected a multiple of the alignment, " + std::to_string(out_.alignment));
  out_.tensors.push_back(std::move(info));
  out_.offset_at.push_back(offset_at);
}

void GgufParser::data_section() {
  // The tensor infos are padded to the alignment; a file without tensors may end unpadded.
  out_.data_offset = (pos_ + out_.alignment - 1) / out_.alignment * out_.alignment;
  const uint64_t data_size = out_.data_offset <= size_ ? size_ - out_.data_offset : 0;
  std::vector<size_t> order(out_.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const TensorInfo& t = out_.tensors[i];
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      fail(out_.offset_at[i],
           "tensor '" + excerpt(t.name) + "' (" + std::to_string(t.bytes) + " bytes at offset " +
               std::to_string(t.offset) + " of the data section, which starts at byte " +
               std::to_string(out_.data_offset) + ") ends past the end of the file",
           "expected it within the file's " + std::to_string(size_) + " bytes: the file is truncated");
  }
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return out_.tensors[a].offset < out_.tensors[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& before = out_.tensors[order[k - 1]];
    const TensorInfo& after = out_.tensors[order[k]];
    if (after.offset < before.offset + before.bytes)
      fail(out_.offset_at[order[k]],
           "tensor '" + excerpt(after.name) + "' (data offset " + std::to_string(after.offset) + ") overlaps tensor '" +
               excerpt(before.name) + "' (bytes " + std::to_string(before.offset) + " to " +
               std::to_string(before.offset + before.bytes) + " of the data section)",
           "expected tensors that share no bytes");
  }
}

GgufParsed GgufParser::parse() {
  header();
  metadata();
  alignment();
  for (uint64_t i = 0; i < tensor_count_; ++i) tensor_info(i);
  data_section();
  return std::move(out_);
}

}  // namespace

// --- File ----------------------------------------------------------------------------------

File::File(const std::string& path)
    : path_(path), map_(path, MappedFile::Access::read_only, "expected a GGUF model file") {
  // A refusal throws after map_ was built, so the mapping is released with it.
  GgufParsed parsed = GgufParser(path_, map_.data(), map_.size()).parse();
  version_ = parsed.version;
  alignment_ = parsed.alignment;
  data_offset_ = parsed.data_offset;
  metadata_ = std::move(parsed.metadata);
  tensors_ = std::move(parsed.tensors);
  tensor_index_ = std::move(parsed.tensor_index);
}

File::~File() = default;

const TensorInfo* File::find(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* File::data(const TensorInfo& info) const {
  const uint64_t data_size = map_.size() - std::min(map_.size(), data_offset_);
  if (info.offset > data_size || info.bytes > data_size - info.offset)
    throw std::out_of_range("gguf::File::data: tensor '" + info.name + "' is not one of " + path_ + "'s");
  return map_.data() + data_offset_ + info.offset;
}

// --- typed getters -------------------------------------------------------------------------

namespace {

// The typed getters' conversions: empty when the value is not of the type.
std::optional<std::string> gguf_to_string(const Value& v) {
  return v.as_string() ? std::optional<std::string>(*v.as_string()) : std::nullopt;
}
std::optional<std::vector<std::string>> gguf_to_strings(const Value& v) {
  if (!v.is_array() || v.element_type() != ValueType::string) return std::nullopt;
  return v.strings();
}
std::optional<std::vector<float>> gguf_to_floats(const Value& v) {
  if (!v.is_array() || (v.element_type() != ValueType::float32 && v.element_type() != ValueType::float64))
    return std::nullopt;
  std::vector<float> out(v.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(*v.scalar_at(i).as_float());
  return out;
}
std::optional<std::vector<int64_t>> gguf_to_ints(const Value& v) {
  if (!v.is_array() || !(gguf_is_signed(v.element_type()) || gguf_is_unsigned(v.element_type()))) return std::nullopt;
  std::vector<int64_t> out(v.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const std::optional<int64_t> element = v.scalar_at(i).as_int();
    if (!element) return std::nullopt;  // a uint64 past int64's range
    out[i] = *element;
  }
  return out;
}

}  // namespace

template <class T, class Convert>
std::optional<T> File::lookup(const std::string& key, bool required, const char* expected, Convert convert) const {
  const KeyValue* kv = metadata_.find(key);
  if (!kv && !required) return std::nullopt;
  if (!kv)
    throw InputFileError(path_ + ": has no metadata '" + excerpt(key) + "' among its " +
                         std::to_string(metadata_.size()) + " keys; expected " + expected + " there");
  std::optional<T> out = convert(kv->value);
  if (out) return out;
  // What it is instead: its type, and an integer's value (a negative one where a count was expected).
  const std::string label = kv->value.type_label();
  const std::optional<int64_t> integer = kv->value.as_int();
  throw InputFileError(path_ + ": metadata '" + excerpt(key) + "' at byte " + std::to_string(kv->offset) + " is " +
                       (label[0] == 'a' || label[0] == 'i' ? "an " : "a ") + label +
                       (integer ? " (" + std::to_string(*integer) + ")" : "") + "; expected " + expected);
}

// get_<stem> and find_<stem>, the same lookup.
#define MLSPEED_GGUF_GETTERS(T, stem, expected, convert)                                             \
  T File::get_##stem(const std::string& key) const { return *lookup<T>(key, true, expected, convert); } \
  std::optional<T> File::find_##stem(const std::string& key) const { return lookup<T>(key, false, expected, convert); }
MLSPEED_GGUF_GETTERS(std::string, string, "a string", gguf_to_string)
MLSPEED_GGUF_GETTERS(uint64_t, uint, "a non-negative integer", [](const Value& v) { return v.as_uint(); })
MLSPEED_GGUF_GETTERS(double, float, "a float32 or float64", [](const Value& v) { return v.as_float(); })
MLSPEED_GGUF_GETTERS(bool, bool, "a bool", [](const Value& v) { return v.as_bool(); })
MLSPEED_GGUF_GETTERS(std::vector<std::string>, string_array, "an array of string", gguf_to_strings)
MLSPEED_GGUF_GETTERS(std::vector<float>, float_array, "an array of float32 or float64", gguf_to_floats)
MLSPEED_GGUF_GETTERS(std::vector<int64_t>, int_array, "an array of integers within int64", gguf_to_ints)
#undef MLSPEED_GGUF_GETTERS

}  // namespace mlspeed::gguf
