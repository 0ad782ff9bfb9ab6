// The few file-system operations mlspeed needs, on POSIX calls. Not <filesystem>: PyTorch's
// pip wheels export statically linked libstdc++ std::filesystem symbols that interpose on ours
// and crash (pytorch#133437; PyTorch itself dropped <filesystem> on Linux for it, PR 134494).
#pragma once

#include <optional>
#include <string>

namespace mlspeed {

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// "" for a regular file; otherwise what it is instead ("is a named pipe", "is a character device",
// "is a folder", "does not exist"), to refuse it before opening: opening a named pipe blocks
// until a writer comes, and reading /dev/zero never ends.
std::string not_a_regular_file(const std::string& path);
std::string parent_directory(const std::string& path);  // "" for a bare file name

// Like `mkdir -p`; returns an empty string on success, else why it failed.
std::string make_directories(const std::string& path);

// The whole file as bytes; empty when it cannot be opened or read (errno says why).
std::optional<std::string> read_whole_file(const std::string& path);

// Writes `contents` as the whole of `path`; returns an empty string on success, else why it failed
// (naming the path). A new or regular file is written beside and renamed over, so that a reader
// never sees half of it, keeping its permissions; a file with other names or another owner is
// rewritten in place instead. A symbolic link is written through to its target. A character
// device or a named pipe is written in place, as a shell's `>` does (/dev/full says ENOSPC). A
// read-only file (no write permission, or no write bit at all, which root would ignore), a
// folder, a block device or a socket is refused.
std::string write_whole_file(const std::string& path, const std::string& contents);

// Like `rm -rf`; errors are ignored (used to clean up temporary folders).
void remove_tree(const std::string& path);

}  // namespace mlspeed
