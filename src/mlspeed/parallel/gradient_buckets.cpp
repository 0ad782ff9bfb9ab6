#include "mlspeed/parallel/gradient_buckets.h"

#include <c10/util/Exception.h>

namespace mlspeed::parallel {

std::vector<GradientBucket> assign_buckets(const std::vector<at::Tensor>& params, int64_t cap_bytes) {
  TORCH_CHECK(cap_bytes > 0, "[parallel] a bucket's cap must be positive, got ", cap_bytes);
  std::vector<GradientBucket> buckets;
  GradientBucket open;
  const at::Tensor* open_kind = nullptr;  // the dtype and device of the open bucket's parameters
  for (size_t k = params.size(); k-- > 0;) {
    const at::Tensor& p = params[k];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool same_kind =
        open_kind && open_kind->scalar_type() == p.scalar_type() && open_kind->device() == p.device();
    if (!open.params.empty() && (!same_kind || open.bytes + bytes > cap_bytes)) {
      buckets.push_back(std::move(open));
      open = GradientBucket{};
    }
    open.params.push_back(k);
    open.bytes += bytes;
    open_kind = &p;
  }
  if (!open.params.empty()) buckets.push_back(std::move(open));
  return buckets;
}

}  // namespace mlspeed::parallel
