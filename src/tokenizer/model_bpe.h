// Byte-pair encoding, as HF tokenizers' BPE model: a word starts as one symbol per character
// (or <0xNN> byte tokens with byte_fallback, or unk), then the lowest-ranked merge among
// adjacent pairs is applied repeatedly (ties: leftmost) until no pair has a merge.
#pragma once

#include <mutex>
#include <optional>
#include <shared_mutex>

#include "tokenizer/model.h"

namespace insitu::tok {

class BpeModel : public Model {
 public:
  BpeModel(const nlohmann::json& j, const std::string& where);
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void add_merge(const std::string& a, const std::string& b, int32_t rank,
                 const std::string& where);
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t byte_ids_[256];  // <0xNN> token ids, -1 where absent

  // Word -> ids cache; HF caches the same way (words shorter than kMaxCachedLen, bounded).
  static constexpr size_t kMaxCachedLen = 256;
  static constexpr size_t kMaxCacheEntries = 100000;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace insitu::tok
