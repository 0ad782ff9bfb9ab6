// The faults of the quantised-weight path, for the verifier's self-test (faults.h): four misreads
// of ggml's blocks (core/weight_format.h) that a new kernel gets wrong silently. Each is a
// rewrite of the blocks that quant/fault_hook.h hands to every product while the fault is
// injected, so the correct kernels compute exactly what kernels with the bug would:
//
//   quant-nibbles-swapped     Q4_0 and Q4_K quants read with each byte's nibbles swapped
//                             (Q4_0: element j takes element j + 16's quant and back; Q4_K: the
//                             two sub-blocks that share 32 bytes trade quants)
//   quant-scale-as-bf16       the fp16 block scales (d of every format, and Q4_K's dmin) read as
//                             bfloat16. The rewrite stores the bfloat16 reading back as fp16:
//                             exact where that value is an fp16 normal (2^-14 .. 65504; a
//                             bfloat16 has 8 significant bits, fp16 11), rounded to an fp16
//                             subnormal, 0 or infinity outside. Typical scales (2^-12 .. 2^-6)
//                             read as 2^-100 .. 2^-70, so a faulty kernel's products are ~1e-20 of
//                             the right ones, and the rewrite's exactly 0: wrong the same way.
//   quant-kquant-subblock-scale-shifted
//                             Q4_K and Q6_K sub-block j decoded with sub-block j + 1's scale (Q4_K:
//                             scale and min, as a wrong index into ggml's get_scale_min_k4 takes
//                             both); the last sub-block takes the first's
//   quant-block-offset        every quantised row read one block too far: block b of row r reads
//                             block b + 1, the last block the next row's first (the last row's last
//                             block wraps to the matrix's first, where a kernel would read past
//                             the end). gather_rows (an embedding lookup) dequantises the rows it
//                             picked, so there the next row is the next one looked up.
//
// Formats a fault does not concern pass through unchanged, as do the plain formats.
#pragma once

#include <vector>

#include "mlspeed/quant/fault_hook.h"
#include "mlspeed/verify/faults.h"

namespace mlspeed::verify {

struct BlocksFaultImpl {
  Fault fault;
  quant::BlocksFault rewrite;
};

const std::vector<BlocksFaultImpl>& blocks_faults();
// The rewrite of a fault of blocks_faults(); null for any other fault.
quant::BlocksFault blocks_fault_named(const std::string& name);

// The rewrites themselves, for the tests that hold each to the misread it stands for.
quant::QuantizedMatrix swap_nibbles(const quant::QuantizedMatrix& w);
quant::QuantizedMatrix scales_read_as_bf16(const quant::QuantizedMatrix& w);
quant::QuantizedMatrix next_subblock_scales(const quant::QuantizedMatrix& w);
quant::QuantizedMatrix next_block(const quant::QuantizedMatrix& w);

}  // namespace mlspeed::verify
