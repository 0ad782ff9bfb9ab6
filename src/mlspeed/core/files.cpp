#include "mlspeed/core/files.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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

namespace {

std::string say_errno() { return std::strerror(errno); }

// Writes all of `contents` to `fd`, through short writes and signals; "" or why it failed.
std::string write_all(int fd, const std::string& contents) {
  for (size_t done = 0; done < contents.size();) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return say_errno();
    done += static_cast<size_t>(n);
  }
  return "";
}

// Writes into the file that is there, keeping it (its inode, owner, permissions and other names;
// a device or a named pipe stays one): no O_CREAT, and O_TRUNC only where asked. A named pipe
// waits for its reader, as a shell's `>` does.
std::string write_in_place(const std::string& path, const std::string& contents, int truncate) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | truncate);
  if (fd < 0) return "cannot write '" + path + "': " + say_errno();
  std::string why = write_all(fd, contents);
  if (::close(fd) != 0 && why.empty()) why = say_errno();
  return why.empty() ? "" : "writing '" + path + "' failed: " + why;
}

// Written beside the target and renamed over it, so that a reader never sees half a file; a file
// replaced keeps its permissions (`mode`). O_NOFOLLOW and the check that the partial file is a
// plain file: a link or a pipe left at that name must not send the text elsewhere.
std::string replace_whole_file(const std::string& path, const std::string& contents, mode_t mode) {
  const std::string partial = path + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
  if (fd < 0) return "cannot write '" + partial + "': " + say_errno();
  struct stat st {};
  std::string why = ::fstat(fd, &st) != 0 ? say_errno() : !S_ISREG(st.st_mode) ? "it is not a regular file" : "";
  if (why.empty()) why = write_all(fd, contents);
  if (why.empty() && mode != 0 && ::fchmod(fd, mode) != 0) why = say_errno();
  if (::close(fd) != 0 && why.empty()) why = say_errno();
  if (!why.empty()) {
    if (S_ISREG(st.st_mode)) std::remove(partial.c_str());
    return "writing '" + partial + "' failed: " + why;
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    why = "cannot rename '" + partial + "' to '" + path + "': " + say_errno();
    std::remove(partial.c_str());
    return why;
  }
  return "";
}

// Where a chain of symbolic links ends, for a link to a file not there yet: writing creates that
// file, as a shell's `>` does, and the link stays a link. `path` when it is not a link.
std::string end_of_links(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {  // 40: Linux's own limit on links followed
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n <= 0) return path;
    target.resize(static_cast<size_t>(n));
    const std::string folder = parent_directory(path);
    path = target[0] == '/' || folder.empty() ? target : (folder == "/" ? "" : folder) + "/" + target;
  }
  return path;
}

// A regular file is replaced whole when that loses nothing: this user owns it (a rename would
// make it ours) and it has one name (a rename would cut the others off). Through a symbolic
// link the file replaced is the link's target, found by realpath.
std::string write_regular_file(const std::string& path, const std::string& contents, const struct stat& st) {
  if ((st.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0)
    return "'" + path + "' is read-only";
  if (st.st_nlink != 1 || st.st_uid != ::geteuid()) return write_in_place(path, contents, O_TRUNC);
  char* real = ::realpath(path.c_str(), nullptr);
  const std::string target = real ? real : path;
  std::free(real);
  return replace_whole_file(target, contents, st.st_mode & 07777);
}

}  // namespace

std::string write_whole_file(const std::string& path, const std::string& contents) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {  // follows symbolic links
    if (errno != ENOENT) return "cannot write '" + path + "': " + say_errno();
    return replace_whole_file(end_of_links(path), contents, 0);
  }
  if (S_ISREG(st.st_mode)) return write_regular_file(path, contents, st);
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return write_in_place(path, contents, 0);
  return "'" + path + "' " + not_a_regular_file(path) + ", not a file to write";
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
