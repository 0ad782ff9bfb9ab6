#include "mlspeed/core/standard_output.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>

namespace mlspeed {
namespace {

constexpr size_t kOutputBufferBytes = 64 * 1024;
std::atomic<bool> g_failure_told{false};

}  // namespace

FdOutputBuffer::FdOutputBuffer(int fd) : fd_(fd), line_buffered_(isatty(fd) == 1), buffer_(kOutputBufferBytes) {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

bool FdOutputBuffer::drain() {
  for (const char* p = pbase(); p < pptr() && error_ == 0;) {
    const ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) error_ = n < 0 ? errno : EIO;
    else p += n;
  }
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return error_ == 0;
}

FdOutputBuffer::int_type FdOutputBuffer::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  if (line_buffered_ && traits_type::to_char_type(c) == '\n' && !drain()) return traits_type::eof();
  return c;
}

std::streamsize FdOutputBuffer::xsputn(const char* s, std::streamsize n) {
  const std::streamsize put = std::streambuf::xsputn(s, n);
  if (line_buffered_ && std::memchr(s, '\n', static_cast<size_t>(put)) && !drain()) return 0;
  return put;
}

int FdOutputBuffer::sync() { return drain() ? 0 : -1; }

CheckedOutput::CheckedOutput(std::ostream& stream, int fd)
    : stream_(stream), buffer_(fd), previous_(stream.rdbuf(&buffer_)) {}

CheckedOutput::~CheckedOutput() {
  stream_.flush();
  stream_.rdbuf(previous_);
}

std::string stdout_failure() {
  if (std::cout.flush()) return "";
  const auto* checked = dynamic_cast<const FdOutputBuffer*>(std::cout.rdbuf());
  return checked && checked->error() ? std::strerror(checked->error()) : "write error";
}

void mark_stdout_failure_told() { g_failure_told = true; }
bool stdout_failure_told() { return g_failure_told; }

}  // namespace mlspeed
