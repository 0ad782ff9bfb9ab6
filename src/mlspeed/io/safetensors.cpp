#include "mlspeed/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed::safetensors {
namespace {

static_assert(sizeof(void*) == 8, "safetensors offsets need a 64-bit address space");

// The reference implementation refuses headers over 100 MB; so does this one, before reading it.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeName kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputFileError(path + ": " + what);
}

// Reads a non-negative integer that fits int64 from a JSON value.
bool as_size(const nlohmann::json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) return false;
    out = static_cast<uint64_t>(i);
  } else {
    return false;
  }
  return out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

}  // namespace

File::File(const std::string& path) : path_(path), map_(path, MappedFile::Access::writable) {
  // Every refusal below throws after map_ was built, so the mapping is released with it.
  const uint64_t file_size = map_.size();
  if (file_size < 8)
    fail(path, "is " + std::to_string(file_size) +
                   " bytes: too short for a safetensors file (it starts with an 8-byte header length)");
  const uint8_t* bytes = map_.data();

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];  // little-endian
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8)
    fail(path, "the header length at byte 0 says " + std::to_string(header_len) + " bytes, but " +
                   (header_len > kMaxHeaderBytes ? "headers are at most 100 MB"
                                                 : "only " + std::to_string(file_size - 8) + " bytes follow") +
                   "; the file is truncated or not a safetensors file");
  const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
  data_ = bytes + 8 + header_len;
  const uint64_t data_size = file_size - 8 - header_len;

  // JSON lets a key appear twice and keeps the last copy: a header naming a tensor twice is
  // refused, since the first copy would never be checked.
  std::set<std::string> names;
  std::string twice;
  const auto note_duplicates = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second &&
        twice.empty())
      twice = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len, note_duplicates);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, "the JSON header is malformed at byte " + std::to_string(8 + e.byte - (e.byte > 0 ? 1 : 0)) +
                   " (" + std::string(e.what()) + ")");
  } catch (const nlohmann::json::exception& e) {
    // Well-formed JSON the parser still refuses: a number too large for a double (1e400) is an
    // out_of_range error, which carries no byte offset.
    fail(path, "the JSON header at byte 8 cannot be read (" + std::string(e.what()) + ")");
  }
  if (!header.is_object()) fail(path, "the header at byte 8 is not a JSON object");
  if (!twice.empty()) fail(path, "the header names '" + printable(twice) + "' twice");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(path, "__metadata__ is not an object of strings");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) fail(path, "__metadata__ entry '" + printable(m.key()) + "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + printable(name) + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      fail(path, where + " needs \"dtype\", \"shape\" and \"data_offsets\"");
    TensorInfo info;
    info.name = name;
    if (!entry["dtype"].is_string()) fail(path, where + ": dtype is not a string");
    info.dtype = entry["dtype"].get<std::string>();
    const auto* dtype = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                                     [&](const DtypeName& d) { return info.dtype == d.name; });
    if (dtype == std::end(kDtypes))
      fail(path, where + ": dtype " + info.dtype + " is not one mlspeed reads (F64, F32, F16, BF16, I64, I32, I16, "
                                                   "I8, U8, BOOL)");
    info.scalar_type = dtype->type;

    const nlohmann::json& shape = entry["shape"];
    if (!shape.is_array() || shape.size() > 64) fail(path, where + ": shape is not a list of at most 64 sizes");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : shape) {
      uint64_t n = 0;
      if (!as_size(d, n)) fail(path, where + ": shape has an entry that is not a non-negative integer");
      info.shape.push_back(static_cast<int64_t>(n));
      if (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n) overflow = true;
      else numel *= n;
    }
    const uint64_t item = c10::elementSize(info.scalar_type);
    if (overflow || (numel != 0 && numel > std::numeric_limits<uint64_t>::max() / item))
      fail(path, where + ": its shape overflows 64 bits");

    const nlohmann::json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !as_size(offsets[0], info.begin) ||
        !as_size(offsets[1], info.end) || info.begin > info.end)
      fail(path, where + ": data_offsets is not [begin, end] with 0 <= begin <= end");
    if (info.end > data_size)
      fail(path, where + ": its bytes [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                     ") end past the data buffer (" + std::to_string(data_size) +
                     " bytes); the file is truncated");
    if (info.end - info.begin != numel * item)
      fail(path, where + ": " + std::to_string(info.end - info.begin) + " bytes of data, but shape " +
                     c10::str(c10::IntArrayRef(info.shape)) + " of " + info.dtype + " needs " +
                     std::to_string(numel * item));
    tensors_.push_back(std::move(info));
  }

  // No two tensors may share bytes.
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : tensors_)
    if (t.end > t.begin) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail(path, "tensors '" + printable(by_offset[i - 1]->name) + "' and '" + printable(by_offset[i]->name) +
                     "' overlap");
}

File::~File() = default;

const TensorInfo* File::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

at::Tensor File::tensor(const std::string& name) const {
  const TensorInfo* info = find(name);
  if (!info) fail(path_, "has no tensor '" + name + "'");
  const auto options = at::TensorOptions().dtype(info->scalar_type);
  auto* begin = const_cast<uint8_t*>(data_ + info->begin);
  const size_t item = c10::elementSize(info->scalar_type);
  if (reinterpret_cast<uintptr_t>(begin) % item == 0) return at::from_blob(begin, info->shape, options);
  // The format does not promise alignment: copy a misaligned tensor into aligned memory.
  at::Tensor aligned = at::empty(info->shape, options);
  // An empty tensor's data pointer may be null, which memcpy must not be given even for 0 bytes.
  if (info->end > info->begin) std::memcpy(aligned.data_ptr(), begin, info->end - info->begin);
  return aligned;
}

void save(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!names.insert(name).second) throw std::invalid_argument("safetensors::save: duplicate name '" + name + "'");
    // Not `tensor` in the lambda: C++17 lets no lambda capture a structured binding (clang refuses).
    const at::ScalarType type = tensor.scalar_type();
    const auto* dtype = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                                     [type](const DtypeName& d) { return d.type == type; });
    if (dtype == std::end(kDtypes))
      throw std::invalid_argument("safetensors::save: '" + name + "' has a dtype the format has no name for");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = t.nbytes();
    header[name] = {{"dtype", dtype->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data buffer 8-byte aligned

  // Written beside the target and renamed over it: a failure never leaves half a file.
  const std::string temp = path + ".partial";
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  if (!out) throw std::runtime_error("cannot write " + temp + ": " + std::strerror(errno));
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bool ok = std::fwrite(length, 1, 8, out) == 8 && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  // An empty tensor is skipped: its data pointer may be null, which fwrite must not be given.
  for (const auto& t : contiguous)
    ok = ok && (t.nbytes() == 0 || std::fwrite(t.data_ptr(), 1, t.nbytes(), out) == t.nbytes());
  ok = (std::fclose(out) == 0) && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + reason);
  }
}

}  // namespace mlspeed::safetensors
