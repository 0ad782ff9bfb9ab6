#include "mlspeed/generate/row_vocabulary.h"

namespace mlspeed {
namespace {

class Gpt2RowVocabulary : public RowVocabulary {
 public:
  Gpt2RowVocabulary(const text::Gpt2Bpe& bpe, const std::string& dir)
      : bpe_(bpe), source_("the vocabulary in " + dir) {}
  const std::string& source() const override { return source_; }
  int64_t size() const override { return bpe_.vocab_size(); }
  bool has_id(int64_t id) const override { return bpe_.has_id(id); }
  std::string decode(const std::vector<int64_t>& ids) const override { return bpe_.decode(ids); }

 private:
  const text::Gpt2Bpe& bpe_;
  std::string source_;
};


}  // namespace

std::unique_ptr<RowVocabulary> gpt2_row_vocabulary(const text::Gpt2Bpe& bpe, const std::string& dir) {
  return std::make_unique<Gpt2RowVocabulary>(bpe, dir);
}

std::string decode_known(const RowVocabulary& vocabulary, const std::vector<int64_t>& ids) {
  std::string out;
  std::vector<int64_t> known;
  for (int64_t id : ids) {
    if (vocabulary.has_id(id)) {
      known.push_back(id);
      continue;
    }
    out += vocabulary.decode(known) + "[id " + std::to_string(id) + "]";
    known.clear();
  }
  return out + vocabulary.decode(known);
}

}  // namespace mlspeed
