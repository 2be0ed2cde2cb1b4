#include "tokenizer/model_wordpiece.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace insitu::tok {

WordPieceModel::WordPieceModel(const nlohmann::json& j, const std::string& where) {
  if (!j.contains("vocab")) throw Error(ErrorCode::kCorruptFile, where + ".vocab: missing");
  set_vocab(j["vocab"], where + ".vocab");
  std::string unk = j.value("unk_token", std::string("[UNK]"));
  unk_id_ = token_to_id(unk);
  if (unk_id_ < 0)
    throw Error(ErrorCode::kCorruptFile, where + ".unk_token: '" + unk + "' is not in vocab");
  prefix_ = j.value("continuing_subword_prefix", std::string("##"));
  if (j.contains("max_input_chars_per_word") && j["max_input_chars_per_word"].is_number_integer())
    max_chars_ = j["max_input_chars_per_word"].get<size_t>();
}

void WordPieceModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  size_t chars = 0;
  for (char ch : word) chars += (static_cast<uint8_t>(ch) & 0xC0) != 0x80;
  if (chars > max_chars_) {
    out.push_back(unk_id_);
    return;
  }
  std::vector<int32_t> pieces;
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    size_t end = word.size();
    int32_t found = -1;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate.append(prefix_);
      candidate.append(word.substr(start, end - start));
      found = token_to_id(candidate);
      if (found >= 0) break;
      // Drop the last character of the candidate.
      do {
        --end;
      } while (end > start && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {
      out.push_back(unk_id_);
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

}  // namespace insitu::tok
