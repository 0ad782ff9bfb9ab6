#include "mlspeed/core/files.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace mlspeed {

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string not_a_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? "does not exist" : std::strerror(errno);
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "is a folder";
  if (S_ISFIFO(st.st_mode)) return "is a named pipe";
  if (S_ISCHR(st.st_mode)) return "is a character device";
  if (S_ISBLK(st.st_mode)) return "is a block device";
  if (S_ISSOCK(st.st_mode)) return "is a socket";
  return "is not a regular file";
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return content;
  } catch (const std::ios_base::failure&) {  // libstdc++ throws when read() fails (a folder: EISDIR)
    return std::nullopt;
  }
}

std::string write_whole_file(const std::string& path, const std::string& contents) {
  // Written beside the target and renamed over it, so a reader never sees half a file.
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write '" + partial + "': " + std::strerror(errno);
    out << contents;
    out.flush();
    if (!out) {
      const std::string why = "writing '" + partial + "' failed: " + std::strerror(errno);
      std::remove(partial.c_str());
      return why;
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    const std::string why = "cannot rename '" + partial + "' to '" + path + "': " + std::strerror(errno);
    std::remove(partial.c_str());
    return why;
  }
  return "";
}

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string make_directories(const std::string& path) {
  if (path.empty() || is_directory(path)) return "";
  if (path_exists(path)) return "'" + path + "' exists and is not a folder";
  const std::string parent = parent_directory(path);
  if (!parent.empty() && parent != path) {
    std::string why = make_directories(parent);
    if (!why.empty()) return why;
  }
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return std::strerror(errno);
  return "";
}

void remove_tree(const std::string& path) {
  ::nftw(
      path.c_str(),
      [](const char* file, const struct stat*, int, struct FTW*) {
        std::remove(file);
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace mlspeed
