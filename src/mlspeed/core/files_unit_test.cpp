#include "mlspeed/core/files.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

TEST(Files, MakeDirectoriesCreatesEveryMissingLevel) {
  testing::TempDir dir;
  const std::string deep = dir.file("a/b/c");
  EXPECT_EQ(make_directories(deep), "");
  EXPECT_TRUE(is_directory(deep));
  EXPECT_EQ(make_directories(deep), "");  // already there: fine
}

TEST(Files, MakeDirectoriesSaysWhyItCannot) {
  testing::TempDir dir;
  testing::write_file(dir.file("file"), "x");
  EXPECT_NE(make_directories(dir.file("file")), "");
  EXPECT_NE(make_directories(dir.file("file/sub")), "");
  EXPECT_EQ(testing::read_file(dir.file("file")), "x");
}

TEST(Files, RemoveTreeRemovesFoldersWithFiles) {
  testing::TempDir dir;
  ASSERT_EQ(make_directories(dir.file("t/x/y")), "");
  testing::write_file(dir.file("t/x/y/f"), "1");
  testing::write_file(dir.file("t/g"), "2");
  remove_tree(dir.file("t"));
  EXPECT_FALSE(path_exists(dir.file("t")));
  EXPECT_TRUE(is_directory(dir.path()));
}

TEST(Files, ParentDirectory) {
  EXPECT_EQ(parent_directory("/a/b/c.db"), "/a/b");
  EXPECT_EQ(parent_directory("c.db"), "");
  EXPECT_EQ(parent_directory("/c.db"), "/");
}

// What lstat says a path is: S_IFREG, S_IFLNK, S_IFIFO, S_IFCHR...; 0 when there is nothing.
mode_t lstat_type(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

mode_t permission_bits(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(FilesWrite, ANewFileIsWrittenWholeAndNothingIsLeftBeside) {
  testing::TempDir dir;
  EXPECT_EQ(write_whole_file(dir.file("new.txt"), "text"), "");
  EXPECT_EQ(testing::read_file(dir.file("new.txt")), "text");
  EXPECT_FALSE(path_exists(dir.file("new.txt.partial")));
}

TEST(FilesWrite, AReplacedFileKeepsItsPermissionsAndItsOtherNames) {
  testing::TempDir dir;
  const std::string file = dir.file("a.txt"), other_name = dir.file("b.txt");
  testing::write_file(file, "old");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_EQ(write_whole_file(file, "new"), "");
  EXPECT_EQ(testing::read_file(file), "new");
  EXPECT_EQ(permission_bits(file), 0640u);
  ASSERT_EQ(::link(file.c_str(), other_name.c_str()), 0);
  EXPECT_EQ(write_whole_file(file, "newer"), "");
  EXPECT_EQ(testing::read_file(other_name), "newer") << "a hard link was broken";
}

TEST(FilesWrite, ASymlinkIsWrittenThroughToItsTarget) {
  testing::TempDir dir;
  const std::string target = dir.file("target.txt"), link = dir.file("link.txt");
  testing::write_file(target, "old");
  ASSERT_EQ(::symlink("target.txt", link.c_str()), 0);  // relative to the link's folder
  EXPECT_EQ(write_whole_file(link, "new"), "");
  EXPECT_EQ(lstat_type(link), S_IFLNK);
  EXPECT_EQ(testing::read_file(target), "new");

  const std::string dangling = dir.file("dangling.txt");
  ASSERT_EQ(::symlink(dir.file("later.txt").c_str(), dangling.c_str()), 0);  // to a file not yet there
  EXPECT_EQ(write_whole_file(dangling, "created"), "");
  EXPECT_EQ(lstat_type(dangling), S_IFLNK);
  EXPECT_EQ(testing::read_file(dir.file("later.txt")), "created");
}

TEST(FilesWrite, ANamedPipeIsWrittenInPlace) {
  testing::TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(write_whole_file(fifo, "through the pipe"), "");
  char buffer[64] = {};
  const ssize_t n = ::read(reader, buffer, sizeof buffer);
  ::close(reader);
  EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0), "through the pipe");
  EXPECT_EQ(lstat_type(fifo), S_IFIFO);
}

// The nodes are made in the test's folder with the numbers of /dev/null and /dev/full, so that
// the test never touches /dev; only where device nodes can be made (root, no nodev mount).
TEST(FilesWrite, ADeviceIsWrittenInPlaceAndItsWriteErrorIsReported) {
  testing::TempDir dir;
  const std::string null = dir.file("null"), full = dir.file("full");
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0 ||
      ::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0)
    GTEST_SKIP() << "cannot make device nodes here";
  EXPECT_EQ(write_whole_file(null, "gone"), "");
  EXPECT_EQ(lstat_type(null), S_IFCHR);
  const std::string why = write_whole_file(full, "no room");
  EXPECT_TRUE(testing::contains(why, "No space left on device")) << why;
  EXPECT_EQ(lstat_type(full), S_IFCHR);
}

TEST(FilesWrite, AReadOnlyFileOrAFolderIsRefusedAndLeftAsItWas) {
  testing::TempDir dir;
  const std::string file = dir.file("keep.txt");
  testing::write_file(file, "keep");
  ASSERT_EQ(::chmod(file.c_str(), 0444), 0);
  const std::string why = write_whole_file(file, "replaced");
  EXPECT_TRUE(testing::contains(why, "read-only")) << why;
  EXPECT_EQ(testing::read_file(file), "keep");
  EXPECT_EQ(lstat_type(file), S_IFREG);
  EXPECT_TRUE(testing::contains(write_whole_file(dir.path(), "x"), "is a folder"));
}

}  // namespace
}  // namespace mlspeed
