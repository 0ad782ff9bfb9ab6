// The verifier's hook into the quantised products (mlspeed verify --inject-fault, verify/quant_faults.h):
// the one place where a fault of the quantised-weight path enters quant/. Nothing else in quant/
// knows about faults, and without a fault set the hook costs one thread-local read per call.
//
// While a BlocksFault is set on a thread, the public entry points of quantized_matrix.h
// (dequantize, linear, gather_rows) take their matrix through FaultedMatrix, which hands them the
// blocks rewritten by the fault: the correct kernels then compute exactly what kernels with the
// bug would (swapped nibbles, a misread scale, the wrong sub-block's scale, an offset block).
// Applied at the entry, before a path is chosen, so every path sees it — the CPU kernels, the
// dequantise + matmul paths, the CUDA kernel table, and any path added later — and only once:
// an entry point called from inside another (linear dequantising, gather_rows dequantising the
// rows it picked) takes the blocks as they come. The reference decoder of blocks.h
// (dequantize_row) is never hooked, so a float64 reference built from it stays right. Plain
// formats (f32, f16, bf16) are never handed to the fault.
#pragma once

#include "mlspeed/quant/quantized_matrix.h"

namespace mlspeed::quant {

// Returns the blocks as the faulty kernel would read them (a new matrix; `w` is not changed).
using BlocksFault = QuantizedMatrix (*)(const QuantizedMatrix& w);

// Sets (or, with nullptr, clears) the fault for the calling thread only.
void set_blocks_fault(BlocksFault fault);
BlocksFault blocks_fault();

// `given` as an entry point reads it, for the entry point's lifetime: through the thread's fault
// when one is set, `given` is quantised and no enclosing FaultedMatrix of this thread has applied
// it already; `given` itself otherwise.
class FaultedMatrix {
 public:
  explicit FaultedMatrix(const QuantizedMatrix& given);
  ~FaultedMatrix();
  FaultedMatrix(const FaultedMatrix&) = delete;
  FaultedMatrix& operator=(const FaultedMatrix&) = delete;

  const QuantizedMatrix& matrix() const { return matrix_; }

 private:
  QuantizedMatrix matrix_;
  bool outermost_ = false;
};

}  // namespace mlspeed::quant
