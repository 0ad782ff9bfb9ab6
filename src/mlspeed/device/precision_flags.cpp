#include "mlspeed/device/precision_flags.h"

#include <ATen/Context.h>

namespace mlspeed {

Tf32Flags tf32_flags() {
  const at::Context& context = at::globalContext();
  return Tf32Flags{context.allowTF32CuBLAS(), context.allowTF32CuDNN()};
}

void set_tf32_flags(Tf32Flags flags) {
  at::globalContext().setAllowTF32CuBLAS(flags.matmul);
  at::globalContext().setAllowTF32CuDNN(flags.conv);
}

Tf32Scope::Tf32Scope(bool allow) : saved_(tf32_flags()) { set_tf32_flags(Tf32Flags{allow, allow}); }

}  // namespace mlspeed
