#include "mlspeed/quant/fault_hook.h"

namespace mlspeed::quant {
namespace {

// Per thread, as the verifier's other faults are (a dispatch key of the thread): the float64
// reference that another thread computes meanwhile is never touched.
thread_local BlocksFault injected_blocks_fault = nullptr;
// Whether an entry point of this thread is inside a FaultedMatrix already.
thread_local bool inside_faulted_entry = false;

}  // namespace

void set_blocks_fault(BlocksFault fault) { injected_blocks_fault = fault; }

BlocksFault blocks_fault() { return injected_blocks_fault; }

FaultedMatrix::FaultedMatrix(const QuantizedMatrix& given) : matrix_(given) {
  if (inside_faulted_entry) return;
  outermost_ = inside_faulted_entry = true;
  if (injected_blocks_fault != nullptr && given.defined() && traits(given.format).quantized)
    matrix_ = injected_blocks_fault(given);
}

FaultedMatrix::~FaultedMatrix() {
  if (outermost_) inside_faulted_entry = false;
}

}  // namespace mlspeed::quant
