// The verifier's hook into a Llama decode step (mlspeed verify --inject-fault, verify/faults.h):
// the one place where a fault of the decode step's own code enters. Both paths of the step read
// it, so that the same bug is caught on every device: the fused attention kernel of CUDA
// (fused/cuda/decode_attention.cu) and LibTorch's ops elsewhere (models/llama.cpp). Thread-local:
// the verifier's reference runs outside the fault's scope on the same thread, and other threads
// never see it. Without a fault set a step pays one thread-local read.
#pragma once

namespace mlspeed::fused {

enum class DecodeFault {
  none,
  // The attention's scores q.k leave out their 1 / sqrt(head_dim): a softmax up to sqrt(head_dim)
  // times too sharp, plausible numbers all the same.
  scores_unscaled,
  // The new token's key attended to and cached without its rotary embedding: every later step's
  // query meets it at no position (lucidrains/x-transformers#219's symptom).
  new_key_unrotated,
};

// Sets the fault for the calling thread (DecodeFault::none clears it).
void set_decode_fault(DecodeFault fault);
DecodeFault decode_fault();

}  // namespace mlspeed::fused
