#include "mlspeed/verify/quant_faults.h"

#include <ATen/ATen.h>

#include <string>

namespace mlspeed::verify {
namespace {

using quant::QuantizedMatrix;

// The blocks as (rows, blocks, block bytes), a fresh contiguous copy to rewrite.
at::Tensor blocks_copy(const QuantizedMatrix& w) {
  const WeightFormatTraits& t = traits(w.format);
  return w.blocks.contiguous().view({w.rows, w.cols / t.block_elements, t.block_bytes}).clone();
}

QuantizedMatrix with_blocks(const QuantizedMatrix& w, const at::Tensor& blocks3) {
  return {w.format, w.rows, w.cols, blocks3.view({w.rows, -1})};
}

// Bytes [offset, offset + count) of every block, as int32 (shifts on uint8 would wrap early).
at::Tensor field_ints(const at::Tensor& blocks3, int64_t offset, int64_t count) {
  return blocks3.narrow(-1, offset, count).to(at::kInt);
}

void store_field(at::Tensor& blocks3, int64_t offset, const at::Tensor& ints) {
  blocks3.narrow(-1, offset, ints.size(-1)).copy_(ints.to(at::kByte));
}

// Where each format keeps its quants' bytes and its fp16 scales.
struct QuantFields {
  int64_t nibble_offset = -1, nibble_count = 0;  // Q4 formats: the nibble-packed quants
  std::vector<int64_t> scale_offsets;
};

QuantFields fields_of(WeightFormat f) {
  switch (f) {
    case WeightFormat::q8_0: return {-1, 0, {0}};
    case WeightFormat::q4_0: return {2, 16, {0}};
    case WeightFormat::q4_k: return {16, 128, {0, 2}};
    case WeightFormat::q6_k: return {-1, 0, {208}};
    default: return {};
  }
}

const Fault kNibbles{"quant-nibbles-swapped", BugClass::op, "Q1",
                     "Q4_0 and Q4_K weights read with the low and high nibbles of each byte swapped",
                     "quant_linear", "forward"};
const Fault kScaleBf16{"quant-scale-as-bf16", BugClass::op, "Q2",
                       "the fp16 block scales of quantised weights (d; Q4_K's dmin) read as bfloat16",
                       "quant_linear", "forward"};
const Fault kSubblock{"quant-kquant-subblock-scale-shifted", BugClass::op, "Q3",
                      "Q4_K and Q6_K sub-block j decoded with sub-block j + 1's scale (Q4_K: and min)",
                      "quant_linear", "forward"};
const Fault kBlockOffset{"quant-block-offset", BugClass::op, "Q4",
                         "quantised rows read one block too far: block b of row r reads block b + 1, the last "
                         "block the next row's first",
                         "quant_linear", "forward"};

}  // namespace

QuantizedMatrix swap_nibbles(const QuantizedMatrix& w) {
  const QuantFields f = fields_of(w.format);
  if (f.nibble_offset < 0) return w;
  at::Tensor b = blocks_copy(w);
  const at::Tensor q = field_ints(b, f.nibble_offset, f.nibble_count);
  store_field(b, f.nibble_offset, at::bitwise_or(at::bitwise_left_shift(at::bitwise_and(q, 15), 4),
                                                 at::bitwise_right_shift(q, 4)));
  return with_blocks(w, b);
}

QuantizedMatrix scales_read_as_bf16(const QuantizedMatrix& w) {
  const QuantFields f = fields_of(w.format);
  if (f.scale_offsets.empty()) return w;
  at::Tensor b = blocks_copy(w);
  for (int64_t offset : f.scale_offsets) {
    const at::Tensor misread = b.narrow(-1, offset, 2).contiguous().view(at::kBFloat16).to(at::kHalf);
    b.narrow(-1, offset, 2).copy_(misread.view(at::kByte));
  }
  return with_blocks(w, b);
}

QuantizedMatrix next_subblock_scales(const QuantizedMatrix& w) {
  if (w.format == WeightFormat::q6_k) {  // int8 scales[16] at byte 192: a plain roll
    at::Tensor b = blocks_copy(w);
    b.narrow(-1, 192, 16).copy_(at::roll(b.narrow(-1, 192, 16), -1, -1));
    return with_blocks(w, b);
  }
  if (w.format != WeightFormat::q4_k) return w;
  // Q4_K's 12 bytes at 4 (block_layout.h's q4k_scale_min): unpacked, rolled, packed again.
  at::Tensor b = blocks_copy(w);
  const at::Tensor s = field_ints(b, 4, 12);
  const at::Tensor s0 = s.narrow(-1, 0, 4), s4 = s.narrow(-1, 4, 4), s8 = s.narrow(-1, 8, 4);
  const auto shr = [](const at::Tensor& t, int64_t n) { return at::bitwise_right_shift(t, n); };
  const auto shl = [](const at::Tensor& t, int64_t n) { return at::bitwise_left_shift(t, n); };
  const auto low = [](const at::Tensor& t, int64_t mask) { return at::bitwise_and(t, mask); };
  const at::Tensor scale = at::roll(
      at::cat({low(s0, 63), at::bitwise_or(low(s8, 15), shl(shr(s0, 6), 4))}, -1), -1, -1);
  const at::Tensor min = at::roll(at::cat({low(s4, 63), at::bitwise_or(shr(s8, 4), shl(shr(s4, 6), 4))}, -1), -1, -1);
  const at::Tensor sc_lo = scale.narrow(-1, 0, 4), sc_hi = scale.narrow(-1, 4, 4);
  const at::Tensor m_lo = min.narrow(-1, 0, 4), m_hi = min.narrow(-1, 4, 4);
  store_field(b, 4,
              at::cat({at::bitwise_or(low(sc_lo, 63), shl(shr(sc_hi, 4), 6)),
                       at::bitwise_or(low(m_lo, 63), shl(shr(m_hi, 4), 6)),
                       at::bitwise_or(low(sc_hi, 15), shl(low(m_hi, 15), 4))},
                      -1));
  return with_blocks(w, b);
}

QuantizedMatrix next_block(const QuantizedMatrix& w) {
  const int64_t block_bytes = traits(w.format).block_bytes;
  const at::Tensor flat = w.blocks.contiguous().view({-1});
  return {w.format, w.rows, w.cols, at::roll(flat, -block_bytes, 0).view({w.rows, -1})};
}

const std::vector<BlocksFaultImpl>& blocks_faults() {
  static const std::vector<BlocksFaultImpl> list = {
      {kNibbles, &swap_nibbles},
      {kScaleBf16, &scales_read_as_bf16},
      {kSubblock, &next_subblock_scales},
      {kBlockOffset, &next_block},
  };
  return list;
}

quant::BlocksFault blocks_fault_named(const std::string& name) {
  for (const BlocksFaultImpl& impl : blocks_faults())
    if (impl.fault.name == name) return impl.rewrite;
  return nullptr;
}

}  // namespace mlspeed::verify
