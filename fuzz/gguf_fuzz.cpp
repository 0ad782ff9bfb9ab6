// The GGUF reader on arbitrary files: mlspeed::gguf::File maps and validates a path, so each
// input is written to a file first. A file it accepts must keep its promises: a version it reads,
// a power-of-two alignment, every tensor inside the data section at an aligned offset with 1 to 4
// dimensions and storage_bytes(format, elements) bytes, no two overlapping, every data pointer
// readable and equal to the input at that place, every metadata value and getter usable (a
// getter of the wrong type throws InputFileError, no other error). And what the writer makes of
// an accepted file reads back the same.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/io/gguf_writer.h"

using namespace mlspeed;

namespace {

// Runs a getter; true when it returned, false when it refused the value's type.
template <typename Get> bool gets(Get&& get) {
  try {
    get();
    return true;
  } catch (const InputFileError&) {
    return false;
  }
}

// Touches every part of a value, element by element.
void walk(const gguf::Value& v, int depth) {
  MLSPEED_FUZZ_CHECK(depth <= gguf::kMaxArrayDepth);
  (void)v.type_label();
  if (!v.is_array()) {
    (void)v.as_uint(), (void)v.as_int(), (void)v.as_float(), (void)v.as_bool(), (void)v.as_string();
    return;
  }
  if (v.element_type() == gguf::ValueType::string) {
    MLSPEED_FUZZ_CHECK(v.size() == v.strings().size());
  } else if (v.element_type() == gguf::ValueType::array) {
    MLSPEED_FUZZ_CHECK(v.size() == v.arrays().size());
    for (const gguf::Value& a : v.arrays()) walk(a, depth + 1);
  } else {
    for (size_t i = 0; i < v.size(); ++i) walk(v.scalar_at(i), depth);
  }
}

bool same(const gguf::Value& a, const gguf::Value& b) {
  if (a.type() != b.type() || a.bits() != b.bits()) return false;
  if (a.as_string()) return *a.as_string() == *b.as_string();
  if (!a.is_array()) return true;
  if (a.element_type() != b.element_type() || a.size() != b.size() || a.strings() != b.strings()) return false;
  for (size_t i = 0; i < a.arrays().size(); ++i)
    if (!same(a.arrays()[i], b.arrays()[i])) return false;
  if (a.element_type() == gguf::ValueType::string || a.element_type() == gguf::ValueType::array) return true;
  for (size_t i = 0; i < a.size(); ++i)
    if (a.scalar_at(i).bits() != b.scalar_at(i).bits()) return false;
  return true;
}

void check_metadata(const gguf::File& file) {
  for (const gguf::KeyValue& kv : file.metadata()) {
    MLSPEED_FUZZ_CHECK(file.metadata().find(kv.key) == &kv);
    MLSPEED_FUZZ_CHECK(!kv.key.empty() && !gguf::invalid_utf8_offset(kv.key));
    walk(kv.value, kv.value.is_array() ? 1 : 0);
    const std::string& k = kv.key;
    MLSPEED_FUZZ_CHECK(gets([&] { (void)file.get_uint(k); }) == kv.value.as_uint().has_value());
    MLSPEED_FUZZ_CHECK(gets([&] { (void)file.get_float(k); }) == kv.value.as_float().has_value());
    MLSPEED_FUZZ_CHECK(gets([&] { (void)file.get_bool(k); }) == kv.value.as_bool().has_value());
    MLSPEED_FUZZ_CHECK(gets([&] { (void)file.get_string(k); }) == (kv.value.as_string() != nullptr));
    if (const std::string* s = kv.value.as_string()) MLSPEED_FUZZ_CHECK(!gguf::invalid_utf8_offset(*s));
    gets([&] { (void)file.get_string_array(k); });
    gets([&] { (void)file.get_float_array(k); });
    gets([&] { (void)file.get_int_array(k); });
    gets([&] { (void)file.find_uint(k), (void)file.find_string(k), (void)file.find_int_array(k); });
  }
}

// The writer given everything the file holds writes a file that reads back the same. (Names of
// 64 bytes or more, which llama.cpp cannot keep, the writer refuses: such files are skipped.)
void check_rewrite(const gguf::File& file) {
  gguf::Writer w;
  for (const gguf::KeyValue& kv : file.metadata()) w.set(kv.key, kv.value);
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (t.name.size() >= 64) return;
    w.add_tensor(t.name, t.dims, t.format, file.data(t), t.bytes);
  }
  const std::string path = fuzz::temp_dir() + "/rewritten.gguf";
  w.write(path);
  std::unique_ptr<gguf::File> reread;
  try {
    reread = std::make_unique<gguf::File>(path);
  } catch (const InputFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    fuzz::broken("the reader refuses what the writer made of a file it accepted");
  }
  const gguf::File& again = *reread;
  MLSPEED_FUZZ_CHECK(again.alignment() == file.alignment());
  MLSPEED_FUZZ_CHECK(again.metadata().size() == file.metadata().size());
  for (size_t i = 0; i < file.metadata().size(); ++i) {
    MLSPEED_FUZZ_CHECK(again.metadata().entries()[i].key == file.metadata().entries()[i].key);
    MLSPEED_FUZZ_CHECK(same(again.metadata().entries()[i].value, file.metadata().entries()[i].value));
  }
  MLSPEED_FUZZ_CHECK(again.tensors().size() == file.tensors().size());
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const gguf::TensorInfo& a = again.tensors()[i];
    const gguf::TensorInfo& b = file.tensors()[i];
    MLSPEED_FUZZ_CHECK(a.name == b.name && a.dims == b.dims && a.format == b.format && a.bytes == b.bytes);
    MLSPEED_FUZZ_CHECK(std::equal(again.data(a), again.data(a) + a.bytes, file.data(b)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::temp_dir() + "/model.gguf";
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz::expecting_input_file_errors([&] {
    const gguf::File file(path);
    MLSPEED_FUZZ_CHECK(size >= 24 && std::equal(data, data + 4, "GGUF"));
    MLSPEED_FUZZ_CHECK(file.version() == 2 || file.version() == 3);
    MLSPEED_FUZZ_CHECK(file.file_size() == size);
    const uint64_t alignment = file.alignment();
    MLSPEED_FUZZ_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
    MLSPEED_FUZZ_CHECK(file.data_offset() % alignment == 0);
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const gguf::TensorInfo& info : file.tensors()) {
      MLSPEED_FUZZ_CHECK(file.find(info.name) == &info);
      MLSPEED_FUZZ_CHECK(!info.dims.empty() && info.dims.size() <= 4);
      for (int64_t d : info.dims) MLSPEED_FUZZ_CHECK(d >= 1);
      MLSPEED_FUZZ_CHECK(info.offset % alignment == 0);
      MLSPEED_FUZZ_CHECK(static_cast<int64_t>(info.bytes) == storage_bytes(info.format, info.elements()));
      MLSPEED_FUZZ_CHECK(file.data_offset() <= size && info.offset <= size - file.data_offset() &&
                         info.bytes <= size - file.data_offset() - info.offset);
      // Every byte of the tensor read, and compared with the input at the same place.
      const uint8_t* bytes = file.data(info);
      MLSPEED_FUZZ_CHECK(std::equal(bytes, bytes + info.bytes, data + file.data_offset() + info.offset));
      ranges.emplace_back(info.offset, info.offset + info.bytes);
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i) MLSPEED_FUZZ_CHECK(ranges[i].first >= ranges[i - 1].second);
    check_metadata(file);
    check_rewrite(file);
  });
  return 0;
}
