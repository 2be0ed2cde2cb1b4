// WordPiece (BERT): greedy longest-match-first over the word, pieces after the first carrying
// the continuing_subword_prefix ("##"); a word with an unmatched rest becomes unk_token.
#pragma once

#include "tokenizer/model.h"

namespace insitu::tok {

class WordPieceModel : public Model {
 public:
  WordPieceModel(const nlohmann::json& j, const std::string& where);
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;

 private:
  int32_t unk_id_ = -1;
  std::string prefix_;
  size_t max_chars_ = 100;
};

}  // namespace insitu::tok
