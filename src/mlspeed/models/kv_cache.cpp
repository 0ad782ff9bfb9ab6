#include "mlspeed/models/kv_cache.h"

#include <limits>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed {
namespace {

// SDPA's memory-efficient kernel wants the mask's rows 16-element aligned; it copies an
// unaligned mask into a padded one on every call otherwise.
constexpr int64_t kCapacityMultiple = 16;

}  // namespace

KVCache::KVCache(int64_t layers, int64_t batch, int64_t heads, int64_t max_len, int64_t head_dim,
                 const at::TensorOptions& options)
    : batch_(batch), max_len_(max_len), capacity_(capacity_for(max_len)) {
  TORCH_CHECK(layers > 0 && batch > 0 && heads > 0 && max_len > 0 && head_dim > 0,
              "KVCache needs positive sizes");
  for (int64_t i = 0; i < layers; ++i) {
    keys_.push_back(at::zeros({batch, heads, capacity_, head_dim}, options));
    values_.push_back(at::zeros({batch, heads, capacity_, head_dim}, options));
  }
  const at::TensorOptions index = options.dtype(at::kLong);
  position_ = at::zeros({1}, index);
  slots_ = at::arange(capacity_, index);
}

const at::Tensor& KVCache::counters(int64_t count) {
  if (!counters_.defined() || counters_.numel() < count) counters_ = at::zeros({count}, position_.options().dtype(at::kInt));
  return counters_;
}

int64_t KVCache::capacity_for(int64_t max_len) {
  return (max_len + kCapacityMultiple - 1) / kCapacityMultiple * kCapacityMultiple;
}

int64_t KVCache::bytes() const {
  int64_t total = 0;
  for (size_t i = 0; i < keys_.size(); ++i) total += keys_[i].nbytes() + values_[i].nbytes();
  return total;
}

std::pair<at::Tensor, at::Tensor> KVCache::append(int64_t layer, const at::Tensor& k, const at::Tensor& v) {
  TORCH_CHECK(layer >= 0 && layer < static_cast<int64_t>(keys_.size()), "KVCache: no layer ", layer);
  const int64_t t = k.size(2);
  TORCH_CHECK(length_ + t <= max_len_, "KVCache: ", length_, " + ", t, " positions exceed the cache's ",
              max_len_);
  TORCH_CHECK(k.size(0) == batch_ && v.sizes() == k.sizes(), "KVCache: keys ", k.sizes(), " and values ",
              v.sizes(), " do not fit a cache of batch ", batch_);
  keys_[layer].narrow(2, length_, t).copy_(k);
  values_[layer].narrow(2, length_, t).copy_(v);
  return {keys_[layer].narrow(2, 0, length_ + t), values_[layer].narrow(2, 0, length_ + t)};
}

void KVCache::advance(int64_t t) {
  TORCH_CHECK(t >= 0 && length_ + t <= max_len_, "KVCache: cannot advance ", t, " past ", max_len_);
  length_ += t;
}

void KVCache::rewind(int64_t length) {
  TORCH_CHECK(length >= 0 && length <= length_, "KVCache: cannot rewind to ", length, " of ", length_,
              " filled positions");
  length_ = length;
}

void KVCache::set_position(int64_t p) {
  TORCH_CHECK(p >= 0 && p <= max_len_, "KVCache: position ", p, " is outside the cache's ", max_len_);
  position_.fill_(p);
}

std::pair<at::Tensor, at::Tensor> KVCache::write_at_position(int64_t layer, const at::Tensor& k,
                                                             const at::Tensor& v) {
  TORCH_CHECK(layer >= 0 && layer < static_cast<int64_t>(keys_.size()), "KVCache: no layer ", layer);
  TORCH_CHECK(k.size(0) == batch_ && k.size(2) == 1 && v.sizes() == k.sizes(), "KVCache: one new token's keys ",
              k.sizes(), " and values ", v.sizes(), " do not fit a cache of batch ", batch_);
  // Out of range is caught on the device (an index assertion), never by reading the position.
  keys_[layer].index_copy_(2, position_, k);
  values_[layer].index_copy_(2, position_, v);
  return {keys_[layer], values_[layer]};
}

void KVCache::advance_position() { position_.add_(1); }

at::Tensor KVCache::decode_mask(at::ScalarType dtype) const {
  TORCH_CHECK(defined(), "KVCache: decode_mask of an empty cache");
  return at::zeros({1, 1, 1, capacity_}, position_.options().dtype(dtype))
      .masked_fill_(slots_ > position_, -std::numeric_limits<float>::infinity());
}

at::Tensor cached_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t past) {
  const int64_t t = q.size(2);
  if (past == 0) return compat::sdpa(q, k, v, /*is_causal=*/t > 1, 0.0);
  if (t == 1) return compat::sdpa(q, k, v, /*is_causal=*/false, 0.0);
  // Query i (at absolute position past + i) sees keys 0..past + i.
  const at::Tensor rows = at::arange(t, q.options().dtype(at::kLong)).unsqueeze(1) + past;
  const at::Tensor cols = at::arange(past + t, q.options().dtype(at::kLong)).unsqueeze(0);
  const at::Tensor additive =
      at::zeros({t, past + t}, q.options()).masked_fill(cols > rows, -std::numeric_limits<float>::infinity());
  return compat::sdpa(q, k, v, /*is_causal=*/false, 0.0, additive);
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) {
  return compat::sdpa(q, k, v, /*is_causal=*/false, 0.0, mask);
}

}  // namespace mlspeed
