#include "mlspeed/io/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace mlspeed::gguf {
namespace {

// llama.cpp keeps a tensor's name in a 64-byte field with its NUL (GGML_MAX_NAME).
constexpr size_t kGgufMaxTensorNameBytes = 63;

void gguf_put(std::string& out, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);  // little-endian
}

void gguf_put_string(std::string& out, const std::string& s) {
  gguf_put(out, s.size(), 8);
  out += s;
}

// A value without its type id: a scalar's bytes, a string, or an array's element type, count
// and elements (each nested array again its element type, count and elements).
void gguf_put_value(std::string& out, const Value& v) {
  if (const std::string* s = v.as_string()) return gguf_put_string(out, *s);
  if (!v.is_array()) return gguf_put(out, v.bits(), scalar_bytes(v.type()));
  gguf_put(out, static_cast<uint32_t>(v.element_type()), 4);
  gguf_put(out, v.size(), 8);
  if (v.element_type() == ValueType::string) {
    for (const std::string& s : v.strings()) gguf_put_string(out, s);
  } else if (v.element_type() == ValueType::array) {
    for (const Value& a : v.arrays()) gguf_put_value(out, a);
  } else {
    const size_t bytes = scalar_bytes(v.element_type());
    for (size_t i = 0; i < v.size(); ++i) gguf_put(out, v.scalar_at(i).bits(), bytes);
  }
}

// The text of every string in `v` is UTF-8 and its arrays nest at most kMaxArrayDepth deep, as
// the reader requires; `depth` is the number of arrays around `v`.
void gguf_check_value(const std::string& key, const Value& v, int depth) {
  const auto check_text = [&](const std::string& s) {
    if (invalid_utf8_offset(s))
      throw std::invalid_argument("gguf::Writer: metadata '" + key + "' holds a string that is not valid UTF-8");
  };
  if (const std::string* s = v.as_string()) check_text(*s);
  if (!v.is_array()) return;
  if (depth + 1 > kMaxArrayDepth)
    throw std::invalid_argument("gguf::Writer: metadata '" + key + "' nests arrays deeper than " +
                                std::to_string(kMaxArrayDepth));
  for (const std::string& s : v.strings()) check_text(s);
  for (const Value& a : v.arrays()) gguf_check_value(key, a, depth + 1);
}

// The value type of a C++ scalar type: Value::array's element type.
template <class T> constexpr ValueType gguf_type_of() {
  if (std::is_same_v<T, bool>) return ValueType::boolean;
  if (std::is_floating_point_v<T>) return sizeof(T) == 4 ? ValueType::float32 : ValueType::float64;
  constexpr bool s = std::is_signed_v<T>;
  if (sizeof(T) == 1) return s ? ValueType::int8 : ValueType::uint8;
  if (sizeof(T) == 2) return s ? ValueType::int16 : ValueType::uint16;
  if (sizeof(T) == 4) return s ? ValueType::int32 : ValueType::uint32;
  return s ? ValueType::int64 : ValueType::uint64;
}

uint64_t gguf_align(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// Writes all of `size` bytes to `fd`; false with errno set when it cannot.
bool gguf_write_all(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool gguf_write_zeros(int fd, uint64_t count) {
  static const uint8_t kZeros[256] = {};
  for (uint64_t done = 0; done < count; done += sizeof kZeros)
    if (!gguf_write_all(fd, kZeros, static_cast<size_t>(std::min<uint64_t>(sizeof kZeros, count - done)))) return false;
  return true;
}

}  // namespace

// Value's arrays from C++ vectors: the writer's way in, so they live here.
template <class T> Value Value::array(const std::vector<T>& elements) {
  std::vector<uint8_t> bytes(elements.size() * sizeof(T));
  for (size_t i = 0; i < elements.size(); ++i) {
    const T v = elements[i];  // by value: std::vector<bool> has no element to point at
    std::memcpy(bytes.data() + i * sizeof(T), &v, sizeof(T));
  }
  return scalar_array(gguf_type_of<T>(), std::move(bytes));
}
template Value Value::array(const std::vector<uint8_t>&);
template Value Value::array(const std::vector<int8_t>&);
template Value Value::array(const std::vector<uint16_t>&);
template Value Value::array(const std::vector<int16_t>&);
template Value Value::array(const std::vector<uint32_t>&);
template Value Value::array(const std::vector<int32_t>&);
template Value Value::array(const std::vector<uint64_t>&);
template Value Value::array(const std::vector<int64_t>&);
template Value Value::array(const std::vector<float>&);
template Value Value::array(const std::vector<double>&);
template Value Value::array(const std::vector<bool>&);

void Writer::set(const std::string& key, Value value) {
  if (key.empty()) throw std::invalid_argument("gguf::Writer: an empty metadata key");
  if (invalid_utf8_offset(key)) throw std::invalid_argument("gguf::Writer: metadata key '" + key + "' is not UTF-8");
  gguf_check_value(key, value, 0);
  if (key == "general.alignment") {
    const uint64_t a = value.bits();
    if (value.type() != ValueType::uint32 || a == 0 || (a & (a - 1)) != 0)
      throw std::invalid_argument("gguf::Writer: general.alignment must be a uint32 power of two");
    alignment_ = static_cast<uint32_t>(a);
  }
  for (KeyValue& kv : metadata_)
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  metadata_.push_back({key, std::move(value), 0});
}

void Writer::check_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format,
                          size_t size) const {
  const std::string where = "gguf::Writer: tensor '" + name + "'";
  if (name.empty()) throw std::invalid_argument("gguf::Writer: a tensor with an empty name");
  if (name.size() > kGgufMaxTensorNameBytes)
    throw std::invalid_argument(where + ": names are at most 63 bytes (llama.cpp's limit)");
  if (invalid_utf8_offset(name)) throw std::invalid_argument(where + ": the name is not UTF-8");
  for (const Pending& t : tensors_)
    if (t.name == name) throw std::invalid_argument(where + " is added twice");
  if (dims.empty() || dims.size() > 4)
    throw std::invalid_argument(where + ": 1 to 4 dimensions, not " + std::to_string(dims.size()));
  int64_t elements = 1;
  for (int64_t d : dims) {
    if (d < 1) throw std::invalid_argument(where + ": a dimension of " + std::to_string(d) + " (each must be >= 1)");
    if (d > std::numeric_limits<int64_t>::max() / elements)
      throw std::invalid_argument(where + ": the element count overflows");
    elements *= d;
  }
  const WeightFormatTraits& t = traits(format);
  if (dims[0] % t.block_elements != 0)
    throw std::invalid_argument(where + ": rows of " + std::to_string(dims[0]) + " elements are not whole " +
                                std::string(t.gguf_name) + " blocks of " + std::to_string(t.block_elements));
  if (elements / t.block_elements > std::numeric_limits<int64_t>::max() / t.block_bytes)
    throw std::invalid_argument(where + ": the byte count overflows");
  const int64_t expected = storage_bytes(format, elements);
  if (static_cast<uint64_t>(expected) != size)
    throw std::invalid_argument(where + ": " + std::to_string(size) + " bytes given, but " + std::to_string(elements) +
                                " " + std::string(t.gguf_name) + " elements take " + std::to_string(expected));
}

void Writer::add_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format,
                        const uint8_t* bytes, size_t size) {
  check_tensor(name, dims, format, size);
  if (!bytes) throw std::invalid_argument("gguf::Writer: tensor '" + name + "' has no bytes");
  tensors_.push_back({name, dims, format, bytes, size, {}});
}

void Writer::add_tensor(const std::string& name, const std::vector<int64_t>& dims, WeightFormat format,
                        std::vector<uint8_t> bytes) {
  check_tensor(name, dims, format, bytes.size());
  const size_t size = bytes.size();
  tensors_.push_back({name, dims, format, nullptr, size, std::move(bytes)});
}

std::string Writer::head() const {
  std::string out = "GGUF";
  gguf_put(out, 3, 4);
  gguf_put(out, tensors_.size(), 8);
  gguf_put(out, metadata_.size(), 8);
  for (const KeyValue& kv : metadata_) {
    gguf_put_string(out, kv.key);
    gguf_put(out, static_cast<uint32_t>(kv.value.type()), 4);
    gguf_put_value(out, kv.value);
  }
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    gguf_put_string(out, t.name);
    gguf_put(out, t.dims.size(), 4);
    for (int64_t d : t.dims) gguf_put(out, static_cast<uint64_t>(d), 8);
    gguf_put(out, traits(t.format).ggml_type, 4);
    gguf_put(out, offset, 8);
    offset += gguf_align(t.size, alignment_);
  }
  out.append(gguf_align(out.size(), alignment_) - out.size(), '\0');
  return out;
}

void Writer::write(const std::string& path) const {
  const std::string head_bytes = head();
  // Written beside the target and renamed over it: a reader never sees half a file, and a
  // failure leaves whatever was at `path` as it was.
  const std::string temp = path + ".partial-" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  bool ok = gguf_write_all(fd, head_bytes.data(), head_bytes.size());
  for (const Pending& t : tensors_) {
    const uint8_t* bytes = t.bytes ? t.bytes : t.owned.data();
    ok = ok && gguf_write_all(fd, bytes, t.size) && gguf_write_zeros(fd, gguf_align(t.size, alignment_) - t.size);
  }
  int saved = ok ? 0 : errno;  // the first failure's reason
  if (::close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(saved));
  }
}

}  // namespace mlspeed::gguf
