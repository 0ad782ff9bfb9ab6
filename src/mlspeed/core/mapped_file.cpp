#include "mlspeed/core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mlspeed/core/errors.h"

namespace mlspeed {

MappedFile::MappedFile(const std::string& path, Access access, const std::string& expected)
    : writable_(access == Access::writable) {
  // O_NONBLOCK: a named pipe would otherwise block the open until a writer comes, before fstat
  // can refuse it (it has no effect on a regular file).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw InputFileError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputFileError(path + ": is not a regular file" + (expected.empty() ? "" : "; " + expected));
  }
  size_ = static_cast<uint64_t>(st.st_size);
  static const uint8_t kNothing = 0;
  bytes_ = &kNothing;
  if (size_ > 0) {
    map_ = ::mmap(nullptr, size_, writable_ ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE, fd, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw InputFileError(path + ": cannot map: " + why);
    }
    bytes_ = static_cast<const uint8_t*>(map_);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, size_);
}

uint8_t* MappedFile::writable_data() const { return writable_ && map_ ? static_cast<uint8_t*>(map_) : nullptr; }

}  // namespace mlspeed
