// Standard output that knows why it failed. Through std::cout's own buffer (stdio's) a write that
// fails on a full disk or a closed pipe only sets badbit: nothing says why, and a program that
// does not look exits 0 with half a file written. main() routes std::cout through CheckedOutput,
// which writes with write(2) and keeps the first error; the run session stops when its rows can
// no longer be printed, and main() reports a failure nobody reported, with exit status 1.
#pragma once

#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

namespace mlspeed {

// A stream buffer on a file descriptor that keeps the errno of its first failed write; from then
// on every write and flush fails, so the stream stays bad. Line-buffered on a terminal.
class FdOutputBuffer : public std::streambuf {
 public:
  explicit FdOutputBuffer(int fd);
  int error() const { return error_; }  // 0 while every write succeeded

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool drain();  // writes what is buffered; what cannot be written is dropped

  int fd_;
  int error_ = 0;
  bool line_buffered_;
  std::vector<char> buffer_;
};

// While it lives, `stream` writes to `fd` through an FdOutputBuffer; the destructor flushes and
// gives the stream its own buffer back.
class CheckedOutput {
 public:
  CheckedOutput(std::ostream& stream, int fd);
  ~CheckedOutput();
  CheckedOutput(const CheckedOutput&) = delete;
  CheckedOutput& operator=(const CheckedOutput&) = delete;

 private:
  std::ostream& stream_;
  FdOutputBuffer buffer_;
  std::streambuf* previous_;
};

// Flushes std::cout; why it could not be written ("No space left on device", "Broken pipe"), or
// empty when everything written so far was written.
std::string stdout_failure();
// Whoever told the user about the failure marks it told, so that main() does not say it twice.
void mark_stdout_failure_told();
bool stdout_failure_told();

}  // namespace mlspeed
