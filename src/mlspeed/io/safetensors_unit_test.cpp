// The safetensors reader and writer, and loading weights into a module: round trips, and every
// kind of bad file giving an InputFileError that names the problem, never a crash or an
// allocation sized by the file.
#include "mlspeed/io/safetensors.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <string>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::TempDir;
using testing::write_file;

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file from a header text and a data buffer, written byte for byte.
std::string file_with(const TempDir& dir, const std::string& header, const std::string& data,
                      const std::string& name = "w.safetensors") {
  const std::string path = dir.file(name);
  write_file(path, le64(header.size()) + header + data);
  return path;
}

// The message of the InputFileError that opening `path` throws ("" if none is thrown).
std::string open_error(const std::string& path) {
  try {
    safetensors::File file(path);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(Safetensors, RoundTripsEveryDtypeShapeAndMetadata) {
  TempDir dir;
  const std::string path = dir.file("t.safetensors");
  const at::Tensor f32 = at::randn({3, 5});
  const at::Tensor bf16 = at::randn({7}).to(at::kBFloat16);
  const at::Tensor f16 = at::randn({2, 2, 2}).to(at::kHalf);
  const at::Tensor i64 = at::arange(6, at::kLong).view({2, 3});
  const at::Tensor b = at::tensor({1, 0, 1}).to(at::kBool);
  const at::Tensor scalar = at::scalar_tensor(3.5, at::kDouble);
  const at::Tensor strided = at::randn({4, 6}).t();  // written contiguous
  const at::Tensor empty = at::empty({0, 3});
  safetensors::save(path,
                    {{"f32", f32}, {"bf16", bf16}, {"f16", f16}, {"i64", i64}, {"bool", b}, {"scalar", scalar},
                     {"strided", strided}, {"empty", empty}},
                    {{"format", "pt"}});
  safetensors::File file(path);
  EXPECT_EQ(file.tensors().size(), 8u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_TRUE(file.tensor("f32").equal(f32));
  EXPECT_TRUE(file.tensor("bf16").equal(bf16));
  EXPECT_TRUE(file.tensor("f16").equal(f16));
  EXPECT_TRUE(file.tensor("i64").equal(i64));
  EXPECT_TRUE(file.tensor("bool").equal(b));
  EXPECT_TRUE(file.tensor("scalar").equal(scalar));
  EXPECT_EQ(file.tensor("scalar").dim(), 0);
  EXPECT_TRUE(file.tensor("strided").equal(strided));
  EXPECT_EQ(file.tensor("empty").sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(file.find("bf16")->dtype, "BF16");
  EXPECT_THROW(file.tensor("nope"), InputFileError);
}

TEST(Safetensors, ReadsAFileWrittenByTheReferenceLayoutByHand) {
  // {"a": F32 [2] at [0, 8)} with the header padded by spaces, as the Python library writes it.
  TempDir dir;
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const float values[2] = {1.5f, -2.0f};
  const std::string path = file_with(dir, header + "   ", std::string(reinterpret_cast<const char*>(values), 8));
  safetensors::File file(path);
  EXPECT_TRUE(file.tensor("a").equal(at::tensor({1.5f, -2.0f})));
}

TEST(Safetensors, ReadsAMisalignedDataBuffer) {
  TempDir dir;  // a header of 4k + 1 bytes puts the data at byte 4k + 9: not 4-aligned
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  while (header.size() % 4 != 1) header += ' ';
  const float values[2] = {3.0f, 4.0f};
  const std::string path = file_with(dir, header, std::string(reinterpret_cast<const char*>(values), 8));
  EXPECT_TRUE(safetensors::File(path).tensor("a").equal(at::tensor({3.0f, 4.0f})));
}

TEST(Safetensors, ReadsAnEmptyTensorAtAMisalignedOffset) {
  // Found by fuzz/safetensors_fuzz.cpp: the copy of a misaligned tensor passed the null data
  // pointer of an empty tensor to memcpy (undefined behaviour; UBSan stops the sanitized build).
  TempDir dir;
  const std::string header = R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[1,1]}})";
  std::string padded = header;
  while (padded.size() % 8 != 0) padded += ' ';  // the data buffer 8-aligned: "e" is at an odd byte
  safetensors::File file(file_with(dir, padded, std::string(1, '\x07')));
  EXPECT_EQ(file.tensor("e").sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(file.tensor("e").scalar_type(), at::kFloat);
  EXPECT_EQ(file.tensor("u").item<uint8_t>(), 7);
}

TEST(Safetensors, ARefusedFileIsUnmapped) {
  // Each refused file once stayed mapped (the constructor threw, so no destructor ran), until
  // the process reached the kernel's limit on mappings (found by fuzz/safetensors_fuzz.cpp).
  TempDir dir;
  const std::string name = "refused-and-unmapped.safetensors";
  EXPECT_NE(open_error(file_with(dir, "[1, 2]", "", name)), "");
  const auto maps = read_whole_file("/proc/self/maps");
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->find(name), std::string::npos) << "the refused file is still mapped:\n" << *maps;
  // An accepted file stays mapped while it is open, and no longer.
  {
    const safetensors::File file(file_with(dir, "{}", "", "accepted.safetensors"));
    EXPECT_NE(read_whole_file("/proc/self/maps")->find("accepted.safetensors"), std::string::npos);
  }
  EXPECT_EQ(read_whole_file("/proc/self/maps")->find("accepted.safetensors"), std::string::npos);
}

TEST(Safetensors, RefusesTruncatedFiles) {
  TempDir dir;
  write_file(dir.file("short"), "abc");
  expect_contains(open_error(dir.file("short")), "too short for a safetensors file");
  // A header length past the end of the file.
  write_file(dir.file("cut"), le64(1000) + "{}");
  expect_contains(open_error(dir.file("cut")), "the header length at byte 0 says 1000 bytes, but only 2 bytes follow");
  // Data cut short: the tensor says 8 bytes, 4 are there.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  expect_contains(open_error(file_with(dir, header, "abcd", "data")), "end past the data buffer (4 bytes)");
  expect_contains(open_error(dir.file("missing")), "cannot open");
}

TEST(Safetensors, RefusesANamedPipeWithoutWaitingForAWriter) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0600), 0);
  expect_contains(open_error(dir.file("pipe")), "is not a regular file");
  expect_contains(open_error("/dev/zero"), "is not a regular file");
}

TEST(Safetensors, RefusesHostileSizesWithoutAllocatingThem) {
  TempDir dir;
  // A header length of 2^63: refused from the file size, nothing is allocated.
  write_file(dir.file("huge"), le64(uint64_t{1} << 63) + "{}");
  expect_contains(open_error(dir.file("huge")), "headers are at most 100 MB");
  // A shape whose element count overflows 64 bits.
  expect_contains(
      open_error(file_with(
          dir, R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", "12345678", "ovf")),
      "overflows 64 bits");
  // A shape claiming far more bytes than its offsets (and the file) hold.
  expect_contains(
      open_error(file_with(dir, R"({"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,8]}})", "12345678", "big")),
      "8 bytes of data, but shape [1000000000] of F32 needs 4000000000");
  // Offsets beyond the file.
  expect_contains(open_error(file_with(dir, R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[18446744073709551000,18446744073709551608]}})",
                                       "12345678", "far")),
                  "data_offsets is not [begin, end]");
  // Negative sizes and overlapping tensors.
  expect_contains(open_error(file_with(dir, R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", "", "neg")),
                  "not a non-negative integer");
  expect_contains(open_error(file_with(dir,
                                       R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                       R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                                       "123456", "overlap")),
                  "overlap");
}

TEST(Safetensors, RefusesMalformedHeaders) {
  TempDir dir;
  expect_contains(open_error(file_with(dir, R"({"a": {"dtype": "F32", )", "", "json")), "the JSON header is malformed at byte");
  expect_contains(open_error(file_with(dir, "[1, 2]", "", "array")), "is not a JSON object");
  expect_contains(open_error(file_with(dir, R"({"a":{"dtype":"F32","shape":[1]}})", "1234", "fields")),
                  "tensor 'a' needs \"dtype\", \"shape\" and \"data_offsets\"");
  expect_contains(open_error(file_with(dir, R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "1", "dtype")),
                  "dtype Q4 is not one mlspeed reads");
  expect_contains(open_error(file_with(dir, R"({"__metadata__":{"k":1}})", "", "meta")),
                  "__metadata__ entry 'k' is not a string");
  // A tensor named twice: JSON keeps the last copy, so the first would never be checked.
  expect_contains(open_error(file_with(dir,
                                       R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                       R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                       "12", "twice")),
                  "the header names 'a' twice");
  // The same name inside two tensors' entries is not a duplicate.
  EXPECT_EQ(open_error(file_with(dir,
                                 R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                 R"("b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                 "12", "two")),
            "");
  // A name with control characters reaches the message escaped, never raw to the terminal.
  const std::string hostile = open_error(file_with(dir, "{\"x\\u001b[2J\":{\"dtype\":\"F32\"}}", "", "escape"));
  expect_contains(hostile, "tensor 'x\\x1b[2J' needs");
  EXPECT_EQ(hostile.find('\x1b'), std::string::npos) << hostile;
  // Random bytes where the header should be.
  std::string noise = le64(16);
  for (int i = 0; i < 16; ++i) noise += static_cast<char>(0x80 + i * 7);
  write_file(dir.file("noise"), noise);
  expect_contains(open_error(dir.file("noise")), "the JSON header is malformed");
  // A number too large for a double is well-formed JSON that the parser refuses with an
  // out_of_range error rather than a parse_error; it once escaped as that (found by
  // fuzz/safetensors_fuzz.cpp).
  expect_contains(open_error(file_with(dir, R"({"a":{"dtype":"U8","shape":[1e400],"data_offsets":[0,1]}})", "1",
                                       "huge")),
                  "the JSON header at byte 8 cannot be read (");
}

// A two-layer module: weight and bias of a Linear, and a LayerNorm.
struct Small : torch::nn::Module {
  Small() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

std::string load_error(torch::nn::Module& m, const std::string& path, const WeightsOptions& options = {}) {
  try {
    load_weights(m, path, options);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

TEST(Weights, SaveThenLoadIntoAnotherModuleGivesIdenticalOutputs) {
  TempDir dir;
  torch::manual_seed(1);
  Small a;
  torch::manual_seed(2);
  Small b;
  const at::Tensor x = at::randn({5, 4});
  ASSERT_FALSE(a.norm(a.fc(x)).equal(b.norm(b.fc(x))));
  save_weights(a, dir.file("a.safetensors"));
  load_weights(b, dir.file("a.safetensors"));
  EXPECT_TRUE(a.norm(a.fc(x)).equal(b.norm(b.fc(x))));
  // Into a module of another dtype: converted on the way in.
  torch::manual_seed(3);
  Small c;
  c.to(at::kDouble);
  load_weights(c, dir.file("a.safetensors"));
  EXPECT_TRUE(c.fc->weight.to(at::kFloat).equal(a.fc->weight));
  EXPECT_EQ(c.fc->weight.scalar_type(), at::kDouble);
}

TEST(Weights, ListsEveryMissingUnexpectedAndMisshapenTensorByName) {
  TempDir dir;
  Small m;
  const std::string path = dir.file("bad.safetensors");
  safetensors::save(path, {{"fc.weight", at::zeros({3, 5})},      // wrong shape
                           {"fc.bias", at::zeros({3})},           // fine
                           {"norm.weight", at::zeros({3})},       // fine; norm.bias missing
                           {"head.weight", at::zeros({2, 3})}});  // not in the model
  const at::Tensor before = m.fc->bias.detach().clone();
  const std::string e = load_error(m, path);
  expect_contains(e, "1 missing from the file:\n    norm.bias [3]");
  expect_contains(e, "1 with the wrong shape:\n    fc.weight: [3, 5] in the file (fc.weight), [3, 4] in the model");
  expect_contains(e, "1 in the file but not in the model:\n    head.weight [2, 3]");
  expect_contains(e, path);
  EXPECT_TRUE(m.fc->bias.equal(before)) << "nothing is loaded when anything is wrong";
}

TEST(Weights, PrefixesAliasesAndIgnoredEntries) {
  TempDir dir;
  torch::manual_seed(4);
  Small src;
  const std::string path = dir.file("hf.safetensors");
  safetensors::save(path, {{"model.fc.weight", src.fc->weight},
                           {"model.fc.bias", src.fc->bias},
                           {"model.norm.weight", src.norm->weight},
                           {"tied.norm.bias", src.norm->bias},
                           {"model.attn.masked_bias", at::zeros({1})},
                           {"cls.predictions.bias", at::zeros({9})}});
  Small m;
  WeightsOptions options;
  options.strip_prefix = "model.";
  options.aliases = {{"tied.norm.bias", "norm.bias"}};
  options.ignore_suffixes = {".masked_bias"};
  options.ignore_prefixes = {"cls."};
  load_weights(m, path, options);
  EXPECT_TRUE(m.fc->weight.equal(src.fc->weight));
  EXPECT_TRUE(m.norm->bias.equal(src.norm->bias));
  // Without the options, every difference is reported.
  Small plain;
  const std::string e = load_error(plain, path);
  expect_contains(e, "4 missing from the file");
  expect_contains(e, "6 in the file but not in the model");
}

TEST(Weights, OptionalTensorsMayBeAbsentAndKeepTheirValue) {
  TempDir dir;
  torch::manual_seed(5);
  Small src;
  const std::string path = dir.file("no-bias.safetensors");
  safetensors::save(path, {{"fc.weight", src.fc->weight}, {"fc.bias", src.fc->bias}, {"norm.weight", src.norm->weight}});
  Small m;
  const at::Tensor bias = m.norm->bias.detach().clone();
  WeightsOptions options;
  options.optional_suffixes = {"norm.bias"};
  load_weights(m, path, options);
  EXPECT_TRUE(m.fc->weight.equal(src.fc->weight));
  EXPECT_TRUE(m.norm->bias.equal(bias));
  Small strict;
  EXPECT_NE(load_error(strict, path).find("1 missing from the file:\n    norm.bias"), std::string::npos);
}

TEST(Weights, ABadFileIsAnInputFileErrorNamingIt) {
  TempDir dir;
  write_file(dir.file("x.safetensors"), "not a safetensors file at all");
  Small m;
  const std::string e = load_error(m, dir.file("x.safetensors"));
  expect_contains(e, dir.file("x.safetensors"));
  expect_contains(e, "the header length at byte 0 says");
}

}  // namespace
}  // namespace mlspeed
