#include "mlspeed/bench/failure.h"

#include <c10/util/Exception.h>

#include <new>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

bool mentions(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

Failure from_message(const std::string& message) {
  if (mentions(message, "out of memory") || mentions(message, "can't allocate memory") ||
      mentions(message, "Cannot allocate memory"))
    return {Status::oom, message};
  if (mentions(message, "not implemented for '") || mentions(message, "is not implemented") ||
      mentions(message, "is not currently supported on the MPS") || mentions(message, "does not support") ||
      mentions(message, "not supported") || mentions(message, "does not have a deterministic implementation"))
    return {Status::unsupported, message};
  return {Status::error, message};
}

}  // namespace

Failure classify_failure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::OutOfMemoryError& e) {
    return {Status::oom, first_line(e.what_without_backtrace())};
  } catch (const c10::NotImplementedError& e) {
    return {Status::unsupported, first_line(e.what_without_backtrace())};
  } catch (const c10::Error& e) {
    return from_message(first_line(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return {Status::oom, "out of host memory (std::bad_alloc)"};
  } catch (const std::exception& e) {
    return from_message(first_line(e.what()));
  } catch (...) {
    return {Status::error, "unknown exception"};
  }
}

}  // namespace mlspeed
