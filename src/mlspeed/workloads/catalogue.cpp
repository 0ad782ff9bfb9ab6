#include <algorithm>

#include "mlspeed/workloads/workload.h"

namespace mlspeed {

// Each workload file defines its factory; the list is explicit so that no registration can be
// dropped by the linker.
std::unique_ptr<Workload> make_resnet50_cifar100();
std::unique_ptr<Workload> make_resnet50_food101();
std::unique_ptr<Workload> make_distilbert_imdb();
std::unique_ptr<Workload> make_small_transformer_imdb();
std::unique_ptr<Workload> make_nanogpt_shakespeare_char();
std::unique_ptr<Workload> make_gpt2_train();
std::unique_ptr<Workload> make_bert_base_infer();
std::unique_ptr<Workload> make_sd15_unet_infer();
std::unique_ptr<Workload> make_llama2_generate();
std::unique_ptr<Workload> make_gpt2_generate();

const std::vector<const Workload*>& workload_catalogue() {
  static const auto owned = [] {
    std::vector<std::unique_ptr<Workload>> w;
    w.push_back(make_resnet50_cifar100());
    w.push_back(make_resnet50_food101());
    w.push_back(make_distilbert_imdb());
    w.push_back(make_small_transformer_imdb());
    w.push_back(make_nanogpt_shakespeare_char());
    w.push_back(make_gpt2_train());
    w.push_back(make_bert_base_infer());
    w.push_back(make_sd15_unet_infer());
    w.push_back(make_llama2_generate());
    w.push_back(make_gpt2_generate());
    return w;
  }();
  static const auto catalogue = [] {
    std::vector<const Workload*> v;
    for (const auto& w : owned) v.push_back(w.get());
    return v;
  }();
  return catalogue;
}

const std::vector<int64_t>& requested_or(const std::vector<int64_t>& requested, const std::vector<int64_t>& defaults) {
  return requested.empty() ? defaults : requested;
}

// Every seq x new_tokens x batch; a dimension the size does not have is 0, whatever is requested.
std::vector<Shape> Workload::shapes(const WorkloadSize& size, const ShapeRequest& request) const {
  static const std::vector<int64_t> kNone{0};
  const auto& batches = requested_or(request.batches, size.batches);
  const auto& seqs = size.seqs.empty() ? kNone : requested_or(request.seqs, size.seqs);
  const auto& news = size.new_tokens.empty() ? kNone : requested_or(request.new_tokens, size.new_tokens);
  std::vector<Shape> shapes;
  for (int64_t seq : seqs)
    for (int64_t n : news)
      for (int64_t batch : batches) shapes.push_back(Shape{batch, seq, n});
  return shapes;
}

const Workload* find_workload(std::string_view name) {
  for (const Workload* w : workload_catalogue())
    if (w->name() == name) return w;
  return nullptr;
}

const WorkloadSize* find_size(const Workload& workload, std::string_view size) {
  const auto& sizes = workload.sizes();
  auto it = std::find_if(sizes.begin(), sizes.end(), [&](const WorkloadSize& s) { return s.name == size; });
  return it == sizes.end() ? nullptr : &*it;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const Workload* w : workload_catalogue()) names.push_back(w->name());
  return names;
}

}  // namespace mlspeed
