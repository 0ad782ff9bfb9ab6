#include "mlspeed/fused/decode_fault.h"

namespace mlspeed::fused {
namespace {

thread_local DecodeFault thread_decode_fault = DecodeFault::none;

}  // namespace

void set_decode_fault(DecodeFault fault) { thread_decode_fault = fault; }
DecodeFault decode_fault() { return thread_decode_fault; }

}  // namespace mlspeed::fused
