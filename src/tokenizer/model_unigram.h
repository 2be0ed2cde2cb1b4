// Unigram language model (SentencePiece "unigram"), as HF tokenizers' Unigram: the segmentation
// with the highest total piece score (Viterbi over all vocabulary pieces), characters no piece
// covers scoring min_score - 10 as unk. Consecutive unknowns fuse into one; with byte_fallback
// an unknown run becomes <0xNN> tokens instead.
#pragma once

#include <unordered_set>

#include "tokenizer/model.h"

namespace insitu::tok {

class UnigramModel : public Model {
 public:
  UnigramModel(const nlohmann::json& j, const std::string& where);
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;

 private:
  std::vector<double> scores_;
  // Every prefix of every piece: the Viterbi scan stops extending a candidate once it leaves
  // this set, which bounds the work per position like a trie would.
  std::unordered_set<std::string, StringHash, std::equal_to<>> prefixes_;
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  double min_score_ = 0.0;
};

}  // namespace insitu::tok
