// Added tokens ("added_tokens" of tokenizer.json): strings cut out of the input before the
// model sees it. As in HF, tokens with normalized=false are matched on the raw text and the
// others on the normalized text; at each step the leftmost match wins, the longest among
// those starting there. lstrip/rstrip swallow adjacent whitespace; single_word requires word
// boundaries on both sides.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/model.h"

namespace insitu::tok {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// A cut of the input: an added token (id >= 0) or text for the model (id == -1).
struct Segment {
  int32_t id;
  size_t begin;
  size_t end;
};

class AddedVocab {
 public:
  // `normalizer` (may be null) normalizes the content of normalized tokens for matching.
  AddedVocab(const nlohmann::json& added_tokens, const Normalizer* normalizer,
             const std::string& where);

  // Cuts `text` at the tokens of one set: normalized=false ones when `normalized_set` is
  // false, else the normalized ones. Empty text segments are dropped.
  std::vector<Segment> split(std::string_view text, bool normalized_set) const;
  bool has_normalized_tokens() const { return !sets_[1].empty(); }

  int32_t token_to_id(std::string_view content) const;  // -1 if none
  const AddedToken* find(int32_t id) const;
  int32_t max_id() const { return max_id_; }

 private:
  struct Entry {
    std::string match;  // content as matched (normalized for normalized tokens)
    size_t token;       // index into tokens_
  };
  // Per set, per first byte: candidates, longest first.
  using MatchSet = std::unordered_map<uint8_t, std::vector<Entry>>;
  std::vector<AddedToken> tokens_;
  MatchSet sets_[2];
  Vocab by_content_;
  std::unordered_map<int32_t, size_t> by_id_;
  int32_t max_id_ = -1;
};

}  // namespace insitu::tok
