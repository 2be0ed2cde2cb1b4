// Tokenization models of tokenizer.json ("model" field): map one pre-tokenized word to ids.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace insitu::tok {

// Heterogeneous lookup so string_view keys need no allocation.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `word` (non-empty) to `out`.
  virtual void tokenize(std::string_view word, std::vector<int32_t>& out) const = 0;
  int32_t token_to_id(std::string_view token) const {
    auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }
  // nullptr when the id is not in the vocabulary.
  const std::string* id_to_token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_id_[id]) return nullptr;
    return &id_to_token_[id];
  }
  size_t vocab_size() const { return id_to_token_.size(); }

 protected:
  // Fills vocab_ from a JSON object {token: id}; `where` names the field for errors.
  void set_vocab(const nlohmann::json& vocab, const std::string& where);
  Vocab vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
};

// `where` is the path of the model field in error messages.
std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& where);

}  // namespace insitu::tok
