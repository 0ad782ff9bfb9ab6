// The GGUF reader and writer: round trips of every metadata type and every tensor format, files
// built byte by byte (a version 2 one; the writer's exact layout), and each kind of hostile file
// giving an InputFileError that says what is wrong and where, never a crash or an allocation
// sized by the file.
#include "mlspeed/io/gguf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/io/gguf_writer.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::TempDir;
using GgufValue = gguf::Value;
using GgufType = gguf::ValueType;

// A file's bytes, field by field, little-endian.
struct GgufBytes {
  std::string s;
  GgufBytes& put(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return put(v, 1); }
  GgufBytes& u32(uint32_t v) { return put(v, 4); }
  GgufBytes& u64(uint64_t v) { return put(v, 8); }
  GgufBytes& raw(const std::string& bytes) { s += bytes; return *this; }
  GgufBytes& str(const std::string& text) { return u64(text.size()).raw(text); }
  GgufBytes& pad(size_t alignment) { return raw(std::string((alignment - s.size() % alignment) % alignment, '\0')); }
  // A key and its value's type id (the value follows).
  GgufBytes& key(const std::string& k, GgufType type) { return str(k).u32(static_cast<uint32_t>(type)); }
  GgufBytes& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t ggml_type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(ggml_type).u64(offset);
  }
  size_t at() const { return s.size(); }
};

GgufBytes gguf_header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
  GgufBytes b;
  b.raw("GGUF").u32(version).u64(tensors).u64(kvs);
  return b;
}

std::string gguf_file(const TempDir& dir, const GgufBytes& bytes, const std::string& name = "m.gguf") {
  testing::write_file(dir.file(name), bytes.s);
  return dir.file(name);
}

// The message of the InputFileError that opening `path` throws ("" when none is thrown).
std::string gguf_open_error(const std::string& path) {
  try {
    gguf::File file(path);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

// What opening `bytes` as a file says ("" when it is accepted), without the "<path>: " that
// every message must start with.
std::string gguf_refusal(const TempDir& dir, const GgufBytes& bytes) {
  const std::string path = gguf_file(dir, bytes), e = gguf_open_error(path);
  if (e.empty() || e.rfind(path + ": ", 0) != 0) return e.empty() ? e : "(the path is missing) " + e;
  return e.substr(path.size() + 2);
}

std::string gguf_at(size_t byte) { return " at byte " + std::to_string(byte); }

void gguf_expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

// `bytes` bytes of a recognisable pattern, different for each `seed`.
std::vector<uint8_t> gguf_pattern(size_t bytes, int seed) {
  std::vector<uint8_t> out(bytes);
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>((i * 131 + seed * 17 + (i >> 8)) & 0xFF);
  return out;
}

// A writer holding a value of every type, arrays of every type (empty ones too), nested arrays,
// and an F32 and a Q8_0 tensor.
gguf::Writer gguf_everything() {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_uint8("t.u8", 255);
  w.set_int8("t.i8", -128);
  w.set_uint16("t.u16", 65535);
  w.set_int16("t.i16", -32768);
  w.set_uint32("t.u32", 4294967295u);
  w.set_int32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_uint64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set_int64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_float32("t.f32", -1.5f);
  w.set_float64("t.f64", 1e300);
  w.set_bool("t.bool", true);
  w.set_string("t.string", "caf\xC3\xA9 \xF0\x9F\x98\x80");
  w.set_string("t.empty_string", "");
  w.set("t.a_u8", GgufValue::array(std::vector<uint8_t>{0, 1, 255}));
  w.set("t.a_i8", GgufValue::array(std::vector<int8_t>{-1, 2}));
  w.set("t.a_u16", GgufValue::array(std::vector<uint16_t>{65535}));
  w.set("t.a_i16", GgufValue::array(std::vector<int16_t>{-300, 300}));
  w.set("t.a_u32", GgufValue::array(std::vector<uint32_t>{7, 8, 9}));
  w.set_int32_array("t.a_i32", {-5, 0, 5});
  w.set("t.a_u64", GgufValue::array(std::vector<uint64_t>{std::numeric_limits<uint64_t>::max(), 3}));
  w.set_int64_array("t.a_i64", {std::numeric_limits<int64_t>::min(), 4});
  w.set_float_array("t.a_f32", {0.25f, -2.0f, 3e38f});
  w.set("t.a_f64", GgufValue::array(std::vector<double>{0.1, -1e-300}));
  w.set("t.a_bool", GgufValue::array(std::vector<bool>{true, false, true}));
  w.set_string_array("t.a_string", {"a", "", "\xE4\xB8\xAD"});
  w.set("t.a_empty_f32", GgufValue::array(std::vector<float>{}));
  w.set_string_array("t.a_empty_string", {});
  w.set("t.nested",
        GgufValue::array_of_arrays({GgufValue::array(std::vector<int32_t>{1, 2}), GgufValue::string_array({"x"}),
                                    GgufValue::array_of_arrays({GgufValue::array(std::vector<uint8_t>{9})}),
                                    GgufValue::array(std::vector<double>{})}));
  w.set("t.a_empty_nested", GgufValue::array_of_arrays({}));
  w.add_tensor("token_embd.weight", {4, 3}, WeightFormat::f32, gguf_pattern(48, 1));
  w.add_tensor("blk.0.attn_q.weight", {64, 2}, WeightFormat::q8_0, gguf_pattern(136, 2));
  return w;
}

TEST(Gguf, RoundTripsEveryMetadataType) {
  TempDir dir;
  gguf_everything().write(dir.file("all.gguf"));
  const gguf::File f(dir.file("all.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  ASSERT_EQ(f.metadata().size(), 30u);
  EXPECT_EQ(f.metadata().entries()[0].key, "general.architecture");  // in the order set
  EXPECT_EQ(f.metadata().entries()[29].key, "t.a_empty_nested");
  const auto value = [&](const std::string& key) -> const GgufValue& { return f.metadata().find(key)->value; };
  for (const auto& [key, type, integer] : std::vector<std::tuple<std::string, GgufType, int64_t>>{
           {"t.u8", GgufType::uint8, 255}, {"t.i8", GgufType::int8, -128}, {"t.u16", GgufType::uint16, 65535},
           {"t.i16", GgufType::int16, -32768}, {"t.u32", GgufType::uint32, 4294967295},
           {"t.i32", GgufType::int32, std::numeric_limits<int32_t>::min()},
           {"t.i64", GgufType::int64, std::numeric_limits<int64_t>::min()}}) {
    EXPECT_EQ(value(key).type(), type) << key;
    EXPECT_EQ(value(key).as_int(), integer) << key;
  }
  EXPECT_EQ(f.get_uint("t.u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_uint("t.u8"), 255u);
  EXPECT_EQ(f.get_float("t.f32"), -1.5);
  EXPECT_EQ(f.get_float("t.f64"), 1e300);
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("t.string"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(f.get_string("t.empty_string"), "");

  for (const auto& [key, integers] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"t.a_u8", {0, 1, 255}}, {"t.a_i8", {-1, 2}}, {"t.a_u16", {65535}}, {"t.a_i16", {-300, 300}},
           {"t.a_u32", {7, 8, 9}}, {"t.a_i32", {-5, 0, 5}}, {"t.a_i64", {std::numeric_limits<int64_t>::min(), 4}}})
    EXPECT_EQ(f.get_int_array(key), integers) << key;
  EXPECT_EQ(value("t.a_u64").element_type(), GgufType::uint64);
  EXPECT_EQ(value("t.a_u64").scalar_at(0).as_uint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_float_array("t.a_f32"), (std::vector<float>{0.25f, -2.0f, 3e38f}));
  EXPECT_EQ(f.get_float_array("t.a_f64"), (std::vector<float>{0.1f, static_cast<float>(-1e-300)}));
  EXPECT_EQ(value("t.a_f64").scalar_at(0).as_float(), 0.1);
  ASSERT_EQ(value("t.a_bool").size(), 3u);
  EXPECT_EQ(value("t.a_bool").scalar_at(1).as_bool(), false);
  EXPECT_EQ(value("t.a_bool").scalar_at(2).as_bool(), true);
  EXPECT_EQ(f.get_string_array("t.a_string"), (std::vector<std::string>{"a", "", "\xE4\xB8\xAD"}));
  EXPECT_TRUE(f.get_float_array("t.a_empty_f32").empty());
  EXPECT_TRUE(f.get_string_array("t.a_empty_string").empty());

  const GgufValue& nested = value("t.nested");
  EXPECT_EQ(nested.type_label(), "array of array");
  ASSERT_EQ(nested.size(), 4u);
  EXPECT_EQ(nested.arrays()[0].scalar_at(1).as_int(), 2);
  EXPECT_EQ(nested.arrays()[1].strings(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(nested.arrays()[2].arrays()[0].scalar_at(0).as_uint(), 9u);
  EXPECT_EQ(nested.arrays()[3].element_type(), GgufType::float64);
  EXPECT_EQ(nested.arrays()[3].size(), 0u);
  EXPECT_EQ(value("t.a_empty_nested").size(), 0u);
}

TEST(Gguf, RoundTripsTensorsOfEveryFormat) {
  TempDir dir;
  gguf::Writer w;
  w.set_uint32("general.alignment", 64);
  struct Written {  // what was given to the writer
    std::string name;
    std::vector<int64_t> dims;
    WeightFormat format;
    std::vector<uint8_t> bytes;
  };
  std::vector<Written> written;
  for (WeightFormat format : kAllWeightFormats) {
    const int64_t row = traits(format).block_elements * 2;
    written.push_back({std::string(name(format)) + ".1", {row}, format, gguf_pattern(storage_bytes(format, row), 1)});
    written.push_back(
        {std::string(name(format)) + ".4", {row, 3, 1, 2}, format, gguf_pattern(storage_bytes(format, row * 6), 2)});
  }
  for (const Written& t : written) w.add_tensor(t.name, t.dims, t.format, t.bytes.data(), t.bytes.size());
  w.write(dir.file("t.gguf"));
  const gguf::File f(dir.file("t.gguf"));
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  ASSERT_EQ(f.tensors().size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    const gguf::TensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, written[i].name);
    EXPECT_EQ(f.find(t.name), &t);
    EXPECT_EQ(t.dims, written[i].dims);
    EXPECT_EQ(t.format, written[i].format);
    EXPECT_EQ(t.offset % 64, 0u);
    EXPECT_EQ(static_cast<int64_t>(t.bytes), storage_bytes(t.format, t.elements()));
    ASSERT_EQ(t.bytes, written[i].bytes.size()) << t.name;
    EXPECT_EQ(std::memcmp(f.data(t), written[i].bytes.data(), t.bytes), 0) << t.name;
  }
  EXPECT_EQ(f.find("absent"), nullptr);
}

TEST(Gguf, WritesGgmlsLayoutByteForByte) {
  TempDir dir;
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("a", {2}, WeightFormat::f32, std::vector<uint8_t>(8, 0xA1));
  w.add_tensor("b", {1}, WeightFormat::f16, std::vector<uint8_t>(2, 0xB2));
  w.write(dir.file("w.gguf"));
  // Version 3, no general.alignment (32 is the default), infos, padding, each tensor padded.
  GgufBytes b = gguf_header(2, 1);
  b.key("general.architecture", GgufType::string).str("llama");
  b.tensor("a", {2}, 0, 0).tensor("b", {1}, 1, 32).pad(32);
  b.raw(std::string(8, '\xA1')).pad(32).raw(std::string(2, '\xB2')).pad(32);
  EXPECT_EQ(testing::read_file(dir.file("w.gguf")), b.s);
}

TEST(Gguf, TypedGettersNameTheKeyAndTheExpectedType) {
  TempDir dir;
  gguf_everything().write(dir.file("all.gguf"));
  const gguf::File f(dir.file("all.gguf"));
  const auto error = [&](auto get) -> std::string {
    try {
      get();
    } catch (const InputFileError& e) {
      return e.what();
    }
    return "";
  };
  const std::string path = dir.file("all.gguf");
  const size_t at = f.metadata().find("t.string")->offset;
  EXPECT_EQ(error([&] { f.get_uint("t.string"); }),
            path + ": metadata 't.string'" + gguf_at(at) + " is a string; expected a non-negative integer");
  gguf_expect_contains(error([&] { f.get_uint("t.i8"); }), "is an int8 (-128); expected a non-negative integer");
  gguf_expect_contains(error([&] { f.get_string("t.a_string"); }), "is an array of string; expected a string");
  gguf_expect_contains(error([&] { f.get_float("t.u8"); }), "is a uint8 (255); expected a float32 or float64");
  gguf_expect_contains(error([&] { f.get_bool("t.u8"); }), "expected a bool");
  gguf_expect_contains(error([&] { f.get_string_array("t.a_f32"); }),
                       "is an array of float32; expected an array of string");
  gguf_expect_contains(error([&] { f.get_float_array("t.a_i32"); }), "expected an array of float32 or float64");
  gguf_expect_contains(error([&] { f.get_int_array("t.a_f32"); }), "expected an array of integers");
  gguf_expect_contains(error([&] { f.get_int_array("t.a_u64"); }),
                       "is an array of uint64; expected an array of integers within int64");
  EXPECT_EQ(error([&] { f.get_uint("llama.block_count"); }),
            path + ": has no metadata 'llama.block_count' among its 30 keys; expected a non-negative integer there");
  EXPECT_EQ(f.find_uint("llama.block_count"), std::nullopt);
  EXPECT_EQ(f.find_string_array("nope"), std::nullopt);
  EXPECT_EQ(f.find_uint("t.u16"), 65535u);
  EXPECT_THROW(f.find_uint("t.i16"), InputFileError) << "a negative value is not silently absent";
  EXPECT_THROW(f.find_string("t.u8"), InputFileError);
}

TEST(Gguf, ReadsAVersion2FileBuiltByHand) {
  TempDir dir;
  GgufBytes b = gguf_header(3, 3, 2);
  b.key("general.architecture", GgufType::string).str("llama");
  b.key("llama.block_count", GgufType::uint32).u32(2);
  b.key("tokenizer.ggml.scores", GgufType::array).u32(6).u64(2).u32(0x3f800000).u32(0xc0000000);  // 1, -2
  b.tensor("output_norm.weight", {2}, 0, 0).tensor("tok", {32, 1}, 8, 32).tensor("h", {4}, 1, 96).pad(32);
  const size_t data = b.at();
  b.u32(0x3fc00000).u32(0x40200000).pad(32);  // 1.5f, 2.5f
  b.raw(std::string(34, '\x11')).pad(32);
  b.raw(std::string("\x00\x3c\x00\x40\x00\x42\x00\x44", 8));  // at offset 96: F16 1, 2, 3, 4
  const gguf::File f(gguf_file(dir, b));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.data_offset(), data);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("llama.block_count"), 2u);
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores"), (std::vector<float>{1.0f, -2.0f}));
  ASSERT_EQ(f.tensors().size(), 3u);
  const float halves[2] = {1.5f, 2.5f};
  EXPECT_EQ(std::memcmp(f.data(f.tensors()[0]), halves, 8), 0);
  EXPECT_EQ(f.tensors()[1].format, WeightFormat::q8_0);
  EXPECT_EQ(f.tensors()[1].bytes, 34u);
  EXPECT_EQ(f.data(f.tensors()[1])[33], 0x11);
  EXPECT_EQ(f.tensors()[2].bytes, 8u);
  EXPECT_EQ(f.data(f.tensors()[2])[7], 0x44);
}

TEST(Gguf, EveryPrefixOfAValidFileIsRefusedCleanly) {
  TempDir dir;
  gguf_everything().write(dir.file("all.gguf"));
  const std::string whole = testing::read_file(dir.file("all.gguf"));
  uint64_t data_end = 0;
  {
    const gguf::File f(dir.file("all.gguf"));
    for (const auto& t : f.tensors()) data_end = std::max(data_end, f.data_offset() + t.offset + t.bytes);
  }
  ASSERT_LT(data_end, whole.size()) << "the last tensor is padded";
  for (size_t n = 0; n < whole.size(); ++n) {
    const std::string e = gguf_refusal(dir, GgufBytes{whole.substr(0, n)});
    if (n >= data_end) {
      EXPECT_EQ(e, "") << "only padding is missing from a prefix of " << n << " bytes";
      continue;
    }
    gguf_expect_contains(e, " at byte ");
    gguf_expect_contains(e, "truncated");
  }
  EXPECT_EQ(gguf_refusal(dir, GgufBytes{}), "the file ends inside the magic (\"GGUF\") at byte 0; "
                                            "expected 4 bytes there, 0 are left: the file is truncated");
}

TEST(Gguf, RefusesABadMagic) {
  TempDir dir;
  EXPECT_EQ(gguf_refusal(dir, GgufBytes{"GGML"}.u32(3).u64(0).u64(0)),
            "the magic is \"GGML\" at byte 0; expected \"GGUF\": this is not a GGUF file");
  gguf_expect_contains(gguf_refusal(dir, GgufBytes{std::string("\x00\xff\x1b[", 4)}.u32(3)),
                       "the magic is \"\\x00\\xff\\x1b[\" at byte 0");
  gguf_expect_contains(gguf_open_error(dir.file("missing.gguf")), "cannot open");
  ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0600), 0);
  gguf_expect_contains(gguf_open_error(dir.file("pipe")), "is not a regular file");
}

TEST(Gguf, RefusesUnsupportedVersions) {
  TempDir dir;
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 0, 1)),
                       "GGUF version 1 at byte 4; expected version 2 or 3 (version 1, with 32-bit counts");
  EXPECT_EQ(gguf_refusal(dir, gguf_header(0, 0, 4)), "GGUF version 4 at byte 4; expected version 2 or 3");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 0, 0)), "GGUF version 0 at byte 4");
  // A big-endian version 3 file: its version's bytes are 00 00 00 03.
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 0, 0x03000000)),
                       "the version reads as 50331648 (0x03000000): this is a big-endian GGUF file at byte 4; "
                       "expected a little-endian file");
}

TEST(Gguf, RefusesTensorsPastTheEndOfTheFile) {
  TempDir dir;
  GgufBytes b = gguf_header(1, 0);
  b.str("w").u32(1).u64(4).u32(0);
  const size_t offset_at = b.at();
  b.u64(32).pad(32).raw(std::string(40, '\0'));  // 16 bytes at offset 32 need 48
  EXPECT_EQ(gguf_refusal(dir, b), "tensor 'w' (16 bytes at offset 32 of the data section, which starts at byte 64) "
                                  "ends past the end of the file" + gguf_at(offset_at) +
                                      "; expected it within the file's 104 bytes: the file is truncated");
  // An offset near 2^64 must not wrap around to pass the check.
  GgufBytes far = gguf_header(1, 0);
  far.tensor("w", {4}, 0, 0xFFFFFFFFFFFFFFE0ull).pad(32).raw(std::string(64, '\0'));
  gguf_expect_contains(gguf_refusal(dir, far), "ends past the end of the file");
  // Tensors, but the file ends before the padding that starts the data section.
  gguf_expect_contains(gguf_refusal(dir, gguf_header(1, 0).tensor("w", {4}, 0, 0)),
                       "which starts at byte 64) ends past the end");
}

TEST(Gguf, RefusesMisalignedOffsets) {
  TempDir dir;
  GgufBytes b = gguf_header(2, 0).tensor("a", {4}, 0, 0);
  const size_t offset_at = b.at() + 8 + 1 + 4 + 8 + 4;
  b.tensor("b", {4}, 0, 16).pad(32).raw(std::string(64, '\0'));
  EXPECT_EQ(gguf_refusal(dir, b), "tensor 'b' has data offset 16" + gguf_at(offset_at) +
                                      "; expected a multiple of the alignment, 32");
}

TEST(Gguf, RefusesOverlappingTensors) {
  TempDir dir;
  GgufBytes b = gguf_header(2, 0).tensor("a", {16}, 0, 0);  // bytes [0, 64)
  const size_t offset_at = b.at() + 8 + 1 + 4 + 8 + 4;
  b.tensor("b", {4}, 0, 32).pad(32).raw(std::string(64, '\0'));
  EXPECT_EQ(gguf_refusal(dir, b),
            "tensor 'b' (data offset 32) overlaps tensor 'a' (bytes 0 to 64 of the data section)" + gguf_at(offset_at) +
                "; expected tensors that share no bytes");
}

TEST(Gguf, RefusesElementCountsThatOverflow) {
  TempDir dir;
  GgufBytes b = gguf_header(1, 0);
  b.str("w").u32(3).u64(1ull << 32).u64(1ull << 30);
  const size_t third = b.at();
  b.u64(4).u32(0).u64(0).pad(32);
  EXPECT_EQ(gguf_refusal(dir, b), "dimension 2 of tensor 'w' is 4: the element count overflows" + gguf_at(third) +
                                      "; expected dimensions whose product fits in a signed 64-bit integer");
  // Elements that fit int64, bytes that do not: 2^63 - 32 Q8_0 elements take 34/32 as many bytes.
  gguf_expect_contains(gguf_refusal(dir, gguf_header(1, 0).tensor("q", {9223372036854775776ull}, 8, 0).pad(32)),
                       "tensor 'q' has 9223372036854775776 elements: its byte count overflows at byte");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(1, 0).tensor("w", {1ull << 63}, 0, 0).pad(32)),
                       "dimension 0 (the row length) of tensor 'w' is 9223372036854775808");
}

TEST(Gguf, RefusesMoreThanFourDimensionsAndNone) {
  TempDir dir;
  const size_t at = 24 + 8 + 1;  // the header, the name's length, "w"
  GgufBytes five = gguf_header(1, 0);
  five.str("w").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0).pad(32).raw(std::string(32, '\0'));
  EXPECT_EQ(gguf_refusal(dir, five), "tensor 'w' has 5 dimensions" + gguf_at(at) + "; expected 1 to 4 (ggml's limit)");
  GgufBytes none = gguf_header(1, 0);
  none.str("w").u32(0).u32(0).u64(0).pad(32).raw(std::string(32, '\0'));
  gguf_expect_contains(gguf_refusal(dir, none), "tensor 'w' has 0 dimensions" + gguf_at(at));
}

TEST(Gguf, RefusesAZeroOrPartialBlockRowLength) {
  TempDir dir;
  GgufBytes zero = gguf_header(1, 0);
  zero.str("blk.0.ffn_up.weight").u32(2);
  const size_t row_at = zero.at();
  zero.u64(0).u64(4).u32(2).u64(0).pad(32).raw(std::string(64, '\0'));
  EXPECT_EQ(gguf_refusal(dir, zero), "dimension 0 (the row length) of tensor 'blk.0.ffn_up.weight' is 0" +
                                         gguf_at(row_at) + "; expected at least 1: an empty tensor holds no weights");
  GgufBytes partial = gguf_header(1, 0).tensor("blk.0.ffn_up.weight", {33, 4}, 2, 0).pad(32).raw(std::string(96, '\0'));
  EXPECT_EQ(gguf_refusal(dir, partial), "tensor 'blk.0.ffn_up.weight' (Q4_0) has rows of 33 elements" +
                                            gguf_at(row_at) + "; expected a multiple of 32, the Q4_0 block");
  GgufBytes k = gguf_header(1, 0).tensor("k", {128}, 12, 0).pad(32).raw(std::string(144, '\0'));
  gguf_expect_contains(gguf_refusal(dir, k), "(Q4_K) has rows of 128 elements");
}

TEST(Gguf, RefusesStringAndArrayLengthsPastTheEnd) {
  TempDir dir;
  EXPECT_EQ(gguf_refusal(dir, gguf_header(0, 1).u64(1000).raw("general.name")),
            "the length of the key of metadata entry 0 says 1000 bytes at byte 24; "
            "expected at most the 12 bytes left in the file: it is truncated or damaged");
  GgufBytes value = gguf_header(0, 1).key("general.name", GgufType::string);
  const size_t value_at = value.at();
  EXPECT_EQ(gguf_refusal(dir, value.u64(50).raw("tiny")),
            "the length of metadata 'general.name' says 50 bytes" + gguf_at(value_at) +
                "; expected at most the 4 bytes left in the file: it is truncated or damaged");
  GgufBytes element = gguf_header(0, 1).key("tokenizer.ggml.tokens", GgufType::array).u32(8).u64(2).str("a");
  const size_t second = element.at();
  gguf_expect_contains(gguf_refusal(dir, element.u64(9).raw("b")),
                       "the length of element 1 of metadata 'tokenizer.ggml.tokens' says 9 bytes" + gguf_at(second));
  GgufBytes array = gguf_header(0, 1).key("tokenizer.ggml.scores", GgufType::array).u32(6);
  const size_t count_at = array.at();
  EXPECT_EQ(gguf_refusal(dir, array.u64(3).u32(0).u32(0)),
            "metadata 'tokenizer.ggml.scores' says it holds 3 float32 elements" + gguf_at(count_at) +
                "; expected at most the 2 that the 8 bytes left in the file could hold: it is truncated or damaged");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(1, 0).u64(uint64_t{1} << 63).raw(std::string(40, 'x'))),
                       "the length of the name of tensor 0 says 9223372036854775808 bytes at byte 24");
}

TEST(Gguf, RefusesHugeCountsWithoutAllocatingThem) {
  TempDir dir;
  for (GgufType type : {GgufType::uint8, GgufType::string, GgufType::array}) {
    GgufBytes b = gguf_header(0, 1).key("k", GgufType::array).u32(static_cast<uint32_t>(type));
    b.u64(uint64_t{1} << 60).raw(std::string(64, '\0'));
    gguf_expect_contains(gguf_refusal(dir, b), "metadata 'k' says it holds 1152921504606846976 " +
                                                   gguf::type_name(type) + " elements at byte 41");
  }
  EXPECT_EQ(gguf_refusal(dir, gguf_header(uint64_t{1} << 60, 0).raw(std::string(100, '\0'))),
            "the header says 1152921504606846976 tensors at byte 8; expected at most the 3 that the 100 bytes "
            "after the header could hold: the file is truncated or damaged");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, ~uint64_t{0})),
                       "the header says 18446744073709551615 metadata entries at byte 16");
}

TEST(Gguf, RefusesDuplicateKeysAndTensorNames) {
  TempDir dir;
  GgufBytes keys = gguf_header(0, 2).key("general.name", GgufType::string).str("a");
  const size_t second = keys.at();
  EXPECT_EQ(gguf_refusal(dir, keys.key("general.name", GgufType::uint8).u8(1)),
            "metadata 'general.name' appears twice" + gguf_at(second) + "; expected each key once");
  GgufBytes names = gguf_header(2, 0).tensor("w", {4}, 0, 0);
  const size_t again = names.at();
  EXPECT_EQ(gguf_refusal(dir, names.tensor("w", {4}, 0, 32).pad(32).raw(std::string(64, '\0'))),
            "tensor 'w' appears twice" + gguf_at(again) + "; expected each name once");
}

TEST(Gguf, RefusesInvalidUtf8InKeysNamesAndStrings) {
  TempDir dir;
  // A lead byte, then no continuation byte.
  EXPECT_EQ(gguf_refusal(dir, gguf_header(0, 1).key("general.n\xC3" "ame", GgufType::uint8).u8(1)),
            "the key of metadata entry 0 (\"general.n\" then byte 0xc3) is not valid UTF-8 at byte 41; "
            "expected UTF-8 text");
  GgufBytes name = gguf_header(1, 0).tensor("blk.\xFF", {4}, 0, 0).pad(32).raw(std::string(16, '\0'));
  gguf_expect_contains(gguf_refusal(dir, name),
                       "the name of tensor 0 (\"blk.\" then byte 0xff) is not valid UTF-8 at byte 36");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("general.name", GgufType::string).str("\xED\xA0\x80")),
                       "metadata 'general.name' (\"\" then byte 0xed) is not valid UTF-8");  // a surrogate
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("k", GgufType::array).u32(8).u64(1).str("\xC0\xAF")),
                       "element 0 of metadata 'k' (\"\" then byte 0xc0)");  // overlong
  EXPECT_EQ(gguf::invalid_utf8_offset("ok \xE2\x82\xAC \xF4\x8F\xBF\xBF"), std::nullopt);
  EXPECT_EQ(gguf::invalid_utf8_offset("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(gguf::invalid_utf8_offset("ab\xE2\x82"), 2u);        // cut short
}

TEST(Gguf, RefusesUnknownValueTypesAndBadValues) {
  TempDir dir;
  EXPECT_EQ(gguf_refusal(dir, gguf_header(0, 1).str("k").u32(13).u64(0)),
            "metadata 'k' has value type 13 at byte 33; expected a GGUF value type, 0 (uint8) to 12 (float64)");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("k", GgufType::array).u32(99).u64(0)),
                       "metadata 'k' is an array of value type 99 at byte 37");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("k", GgufType::boolean).u8(2)),
                       "metadata 'k' is a bool of 2 at byte 37; expected 0 (false) or 1 (true)");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("k", GgufType::array).u32(7).u64(3).u8(1).u8(0).u8(7)),
                       "element 2 of metadata 'k' is a bool of 7 at byte 51");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("", GgufType::uint8).u8(0)),
                       "metadata entry 0 has an empty key at byte 24");
  // Arrays nested deeper than kMaxArrayDepth: each level one array of one element.
  GgufBytes deep = gguf_header(0, 1).key("k", GgufType::array);
  for (int i = 0; i < 100; ++i) deep.u32(9).u64(1);
  gguf_expect_contains(gguf_refusal(dir, deep), "nests arrays 9 deep at byte");
}

TEST(Gguf, NamesAnUnsupportedTensorType) {
  TempDir dir;
  for (const auto& [type, label] : std::vector<std::pair<uint32_t, std::string>>{
           {16, "IQ2_XXS (ggml type 16)"}, {13, "Q5_K (ggml type 13)"}, {4000, "ggml type 4000 (unknown to ggml)"}}) {
    GgufBytes b = gguf_header(1, 0).str("blk.0.attn_q.weight").u32(1).u64(256);
    const size_t at = b.at();
    EXPECT_EQ(gguf_refusal(dir, b.u32(type).u64(0).pad(32).raw(std::string(1024, '\0'))),
              "tensor 'blk.0.attn_q.weight' is " + label + gguf_at(at) +
                  ", which mlspeed does not read; it reads F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K");
  }
}

TEST(Gguf, HonoursAndChecksTheAlignment) {
  TempDir dir;
  const size_t at = 24 + 8 + 17;  // the header, the key: its value's type id
  for (uint32_t alignment : {48u, 0u})
    EXPECT_EQ(gguf_refusal(dir, gguf_header(0, 1).key("general.alignment", GgufType::uint32).u32(alignment)),
              "general.alignment is " + std::to_string(alignment) + gguf_at(at) +
                  "; expected a power of two (ggml's default is 32)");
  gguf_expect_contains(gguf_refusal(dir, gguf_header(0, 1).key("general.alignment", GgufType::uint64).u64(64)),
                       "general.alignment is a uint64" + gguf_at(at) + "; expected a uint32");
  // Alignment 8: the data section starts at the next multiple of 8, offsets are multiples of 8.
  GgufBytes eight = gguf_header(2, 1).key("general.alignment", GgufType::uint32).u32(8);
  eight.tensor("a", {1}, 0, 0).tensor("b", {1}, 0, 8).pad(8);
  const size_t data = eight.at();
  const gguf::File f(gguf_file(dir, eight.raw(std::string(12, '\x01'))));
  EXPECT_EQ(f.alignment(), 8u);
  EXPECT_EQ(f.data_offset(), data);
  EXPECT_EQ(f.data(f.tensors()[1]), f.data(f.tensors()[0]) + 8);
}

TEST(Gguf, AcceptsAFileWithoutTensors) {
  TempDir dir;
  // No padding after the metadata: there is no data section to align.
  const gguf::File f(gguf_file(dir, gguf_header(0, 1).key("general.architecture", GgufType::string).str("llama")));
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  gguf::Writer().write(dir.file("empty.gguf"));
  EXPECT_EQ(gguf::File(dir.file("empty.gguf")).metadata().size(), 0u);
}

TEST(Gguf, ARefusedFileIsUnmapped) {
  TempDir dir;
  EXPECT_NE(gguf_open_error(gguf_file(dir, gguf_header(0, 1).key("k", GgufType::boolean).u8(5), "refused.gguf")), "");
  const auto maps = read_whole_file("/proc/self/maps");
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->find("refused.gguf"), std::string::npos) << *maps;
}

TEST(GgufWriter, RefusesWhatTheReaderWouldRefuse) {
  gguf::Writer w;
  const std::vector<uint8_t> q8(34);
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{{16}, {}, {32, 1, 1, 1, 1}, {0}, {32, -1}})
    EXPECT_THROW(w.add_tensor("q", dims, WeightFormat::q8_0, q8.data(), q8.size()), std::invalid_argument);
  for (const std::string& name : {std::string(), std::string(64, 'n'), std::string("\xFF")})
    EXPECT_THROW(w.add_tensor(name, {32}, WeightFormat::q8_0, q8.data(), q8.size()), std::invalid_argument);
  w.add_tensor("q", {32}, WeightFormat::q8_0, q8.data(), q8.size());
  EXPECT_THROW(w.add_tensor("q", {32}, WeightFormat::q8_0, q8.data(), q8.size()), std::invalid_argument);
  try {
    w.add_tensor("r", {32, 2}, WeightFormat::q8_0, q8.data(), q8.size());
    ADD_FAILURE() << "a short tensor was accepted";
  } catch (const std::invalid_argument& e) {
    gguf_expect_contains(e.what(), "tensor 'r': 34 bytes given, but 64 Q8_0 elements take 68");
  }
  EXPECT_THROW(w.set_string("", "x"), std::invalid_argument);
  EXPECT_THROW(w.set_string("k", "\xC3"), std::invalid_argument);
  EXPECT_THROW(w.set_string_array("k", {"ok", "\xFF"}), std::invalid_argument);
  EXPECT_THROW(w.set_uint32("general.alignment", 24), std::invalid_argument);
  EXPECT_THROW(w.set_uint64("general.alignment", 64), std::invalid_argument);
  EXPECT_THROW(GgufValue::array_of_arrays({GgufValue::u8(1)}), std::invalid_argument);
  EXPECT_THROW(GgufValue::from_bits(GgufType::boolean, 2), std::invalid_argument);
  EXPECT_THROW(GgufValue::scalar_array(GgufType::boolean, {0, 1, 2}), std::invalid_argument);
  // Arrays nested as deep as the reader takes, and one level more.
  GgufValue deep = GgufValue::array(std::vector<uint8_t>{1});
  for (int i = 1; i < gguf::kMaxArrayDepth; ++i) deep = GgufValue::array_of_arrays({deep});
  w.set("deep.enough", deep);
  EXPECT_THROW(w.set("too.deep", GgufValue::array_of_arrays({deep})), std::invalid_argument);
  TempDir dir;
  w.write(dir.file("deep.gguf"));
  const gguf::File f(dir.file("deep.gguf"));
  const GgufValue* v = &f.metadata().find("deep.enough")->value;
  for (int i = 1; i < gguf::kMaxArrayDepth; ++i) v = &v->arrays().at(0);
  EXPECT_EQ(v->scalar_at(0).as_uint(), 1u);
}

TEST(GgufWriter, ReplacesAKeySetTwiceInPlace) {
  TempDir dir;
  gguf::Writer w;
  w.set_string("a", "first");
  w.set_uint32("b", 1);
  w.set_uint64("a", 7);
  w.write(dir.file("w.gguf"));
  const gguf::File f(dir.file("w.gguf"));
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata().entries()[0].key, "a");
  EXPECT_EQ(f.get_uint("a"), 7u);
}

TEST(GgufWriter, AFailedWriteLeavesNoFileBehind) {
  TempDir dir;
  const gguf::Writer w = gguf_everything();
  try {
    w.write(dir.file("no/such/folder/m.gguf"));
    ADD_FAILURE() << "wrote into a missing folder";
  } catch (const std::runtime_error& e) {
    gguf_expect_contains(e.what(), "cannot write " + dir.file("no/such/folder/m.gguf") + ": ");
  }
  EXPECT_FALSE(path_exists(dir.file("no")));
  // The rename fails over a folder: the partial file is removed and the folder left as it was.
  ASSERT_EQ(make_directories(dir.file("taken/inside")), "");
  EXPECT_THROW(w.write(dir.file("taken")), std::runtime_error);
  EXPECT_TRUE(is_directory(dir.file("taken/inside")));
  EXPECT_FALSE(path_exists(dir.file("taken.partial-" + std::to_string(::getpid()))));
}

}  // namespace
}  // namespace mlspeed
