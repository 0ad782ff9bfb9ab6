#include "mlspeed/device/build_facts.h"

#ifndef MLSPEED_VERSION
#define MLSPEED_VERSION "unknown"
#endif
#ifndef MLSPEED_BUILD_TYPE
#define MLSPEED_BUILD_TYPE ""
#endif
#ifndef MLSPEED_SANITIZED
#define MLSPEED_SANITIZED 0
#endif

namespace mlspeed {

std::string mlspeed_version() { return MLSPEED_VERSION; }

std::string build_type() {
  std::string type = MLSPEED_BUILD_TYPE;
  if (type.empty()) type = "unspecified";
#if !defined(__OPTIMIZE__)
  type += " (unoptimised)";
#endif
  return type;
}

bool built_with_sanitizers() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return true;
#endif
#endif
  return MLSPEED_SANITIZED != 0;
}

}  // namespace mlspeed
