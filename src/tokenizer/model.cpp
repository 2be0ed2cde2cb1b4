#include "tokenizer/model.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/model_bpe.h"
#include "tokenizer/model_unigram.h"
#include "tokenizer/model_wordpiece.h"

namespace insitu::tok {

void Model::set_vocab(const nlohmann::json& vocab, const std::string& where) {
  if (!vocab.is_object())
    throw Error(ErrorCode::kCorruptFile, where + ": expected an object {token: id}");
  vocab_.reserve(vocab.size());
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX)
      throw Error(ErrorCode::kCorruptFile,
                  where + "['" + it.key() + "']: id must be a non-negative integer");
    int64_t id = it.value().get<int64_t>();
    vocab_[it.key()] = static_cast<int32_t>(id);
    max_id = std::max(max_id, id);
  }
  id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_id_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [token, id] : vocab_) {
    id_to_token_[id] = token;
    has_id_[id] = true;
  }
}

std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(ErrorCode::kCorruptFile, where + ": missing or not an object");
  std::string type;
  if (j.contains("type") && j["type"].is_string()) {
    type = j["type"].get<std::string>();
  } else if (j.contains("merges")) {
    type = "BPE";  // old files omit the type of a BPE model
  } else {
    throw Error(ErrorCode::kCorruptFile, where + ".type: missing");
  }
  if (type == "BPE") return std::make_unique<BpeModel>(j, where);
  if (type == "WordPiece") return std::make_unique<WordPieceModel>(j, where);
  if (type == "Unigram") return std::make_unique<UnigramModel>(j, where);
  throw Error(ErrorCode::kUnsupported, where + ".type: unsupported model '" + type + "'");
}

}  // namespace insitu::tok
