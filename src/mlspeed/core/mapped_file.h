// A regular file mapped into memory, as the model-file readers (safetensors, GGUF) read them:
// opened without blocking on a named pipe, refused unless it is a regular file, mapped private
// (nothing written through the mapping ever reaches the file), unmapped when destroyed. As a
// member constructed before a reader's checks, it is also unmapped when a check refuses the file.
#pragma once

#include <cstdint>
#include <string>

namespace mlspeed {

class MappedFile {
 public:
  enum class Access { read_only, writable };  // writable: private copy-on-write pages
  // Throws InputFileError "<path>: cannot open: <why>", "<path>: is not a regular file[; <expected>]"
  // or "<path>: cannot map: <why>". An empty file is not mapped (mmap refuses length 0): data()
  // then points at one zero byte, for the reader's own check to refuse.
  MappedFile(const std::string& path, Access access, const std::string& expected = "");
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return bytes_; }
  uint8_t* writable_data() const;  // null unless Access::writable and the file is not empty
  uint64_t size() const { return size_; }

 private:
  void* map_ = nullptr;
  uint64_t size_ = 0;
  const uint8_t* bytes_ = nullptr;
  bool writable_ = false;
};

}  // namespace mlspeed
