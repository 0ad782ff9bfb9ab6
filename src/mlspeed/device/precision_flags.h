// The process-wide flags a precision sets: TF32 for float32 matrix products (cuBLAS) and
// convolutions (cuDNN). They live in LibTorch's global context, so whoever sets them for a
// configuration restores them afterwards (Tf32Scope): a tf32 row must not leave TF32 on for the
// fp32 rows after it, nor for anything else in the process.
#pragma once

#include "mlspeed/core/precision.h"

namespace mlspeed {

struct Tf32Flags {
  bool matmul = false;  // cuBLAS (torch.backends.cuda.matmul.allow_tf32)
  bool conv = false;    // cuDNN (torch.backends.cudnn.allow_tf32)
  bool operator==(const Tf32Flags& o) const { return matmul == o.matmul && conv == o.conv; }
};

// The flags in force now (readable and settable without a GPU).
Tf32Flags tf32_flags();
void set_tf32_flags(Tf32Flags flags);

// Sets both flags for its lifetime and restores the ones in force before, each as it was.
class Tf32Scope {
 public:
  explicit Tf32Scope(bool allow);
  explicit Tf32Scope(Precision precision) : Tf32Scope(allows_tf32(precision)) {}
  ~Tf32Scope() { set_tf32_flags(saved_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  Tf32Flags saved_;
};

}  // namespace mlspeed
