// Rows on their way to the results database. Each row is committed on its own; a row the database
// refuses (locked by another program past the busy timeout, a full disk) is kept, and retried
// before the next row and once more at the end, in order. What still cannot be stored is listed
// by the command that measured it: a measured row is never lost silently.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace mlspeed {

template <class Row>
class RowStore {
 public:
  // `write` stores one row (setting what the store sets, such as its run id) or throws.
  explicit RowStore(std::function<void(Row&)> write) : write_(std::move(write)) {}

  // Queues `row` behind any row still waiting, then stores what it can.
  void add(Row row) {
    pending_.push_back(std::move(row));
    flush();
  }

  // Stores the waiting rows in order; stops at the first refusal (the lock is likely still held).
  void flush() {
    while (!pending_.empty()) {
      try {
        write_(pending_.front());
      } catch (const std::exception& e) {
        last_error_ = e.what();
        ++refusals_;
        return;
      }
      pending_.pop_front();
      ++stored_;
    }
  }

  int64_t stored() const { return stored_; }
  int64_t refusals() const { return refusals_; }     // failed attempts, retried or not
  const std::deque<Row>& pending() const { return pending_; }  // not stored (yet)
  const std::string& last_error() const { return last_error_; }

 private:
  std::function<void(Row&)> write_;
  std::deque<Row> pending_;
  int64_t stored_ = 0, refusals_ = 0;
  std::string last_error_;
};

}  // namespace mlspeed
