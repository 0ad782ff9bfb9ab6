#include "mlspeed/core/files.h"

#include <gtest/gtest.h>

#include "testing/test_support.h"

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

}  // namespace
}  // namespace mlspeed
