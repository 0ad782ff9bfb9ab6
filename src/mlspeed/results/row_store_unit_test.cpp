// RowStore: rows refused by the database are kept and retried in order; nothing is lost.
#include "mlspeed/results/row_store.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace mlspeed {
namespace {

TEST(RowStore, RefusedRowsAreRetriedInOrderBeforeTheNextAndAtTheEnd) {
  std::vector<int> stored;
  bool locked = false;
  RowStore<int> store([&](int& row) {
    if (locked) throw std::runtime_error("database is locked");
    stored.push_back(row);
  });
  store.add(1);
  locked = true;
  store.add(2);
  store.add(3);
  EXPECT_EQ(stored, (std::vector<int>{1}));
  EXPECT_EQ(store.pending().size(), 2u);
  EXPECT_EQ(store.last_error(), "database is locked");
  EXPECT_EQ(store.refusals(), 2);
  locked = false;
  store.add(4);  // the waiting rows go first
  EXPECT_EQ(stored, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(store.pending().empty());
  EXPECT_EQ(store.stored(), 4);

  locked = true;
  store.add(5);
  store.flush();
  EXPECT_EQ(store.pending().size(), 1u);
  locked = false;
  store.flush();  // the end of the run
  EXPECT_EQ(stored, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(RowStore, TheWriterMayChangeTheRow) {
  std::vector<int> seen;
  RowStore<int> store([&](int& row) {
    row *= 10;
    seen.push_back(row);
  });
  store.add(7);
  EXPECT_EQ(seen, (std::vector<int>{70}));
}

}  // namespace
}  // namespace mlspeed
