#include "tokenizer/model_bpe.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <queue>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace insitu::tok {

namespace {
std::string optional_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}
// Built only for error messages: "<file>: model.merges[<rank>]".
std::string merge_field(const std::string& where, int32_t rank) {
  return where + ".merges[" + std::to_string(rank) + "]";
}
bool optional_bool(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
}  // namespace

BpeModel::BpeModel(const nlohmann::json& j, const std::string& where) {
  if (!j.contains("vocab")) throw Error(ErrorCode::kCorruptFile, where + ".vocab: missing");
  set_vocab(j["vocab"], where + ".vocab");
  continuing_subword_prefix_ = optional_string(j, "continuing_subword_prefix");
  end_of_word_suffix_ = optional_string(j, "end_of_word_suffix");
  fuse_unk_ = optional_bool(j, "fuse_unk");
  byte_fallback_ = optional_bool(j, "byte_fallback");
  ignore_merges_ = optional_bool(j, "ignore_merges");
  if (j.contains("dropout") && j["dropout"].is_number() && j["dropout"].get<double>() > 0.0)
    throw Error(ErrorCode::kUnsupported, where + ".dropout: BPE dropout is not supported");
  std::string unk = optional_string(j, "unk_token");
  if (!unk.empty()) {
    int32_t id = token_to_id(unk);
    if (id < 0)
      throw Error(ErrorCode::kCorruptFile, where + ".unk_token: '" + unk + "' is not in vocab");
    unk_id_ = id;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_ids_[b] = token_to_id(name);
  }

  auto merges_it = j.find("merges");
  if (merges_it == j.end() || !merges_it->is_array())
    throw Error(ErrorCode::kCorruptFile, where + ".merges: missing or not an array");
  merges_.reserve(merges_it->size());
  int32_t rank = 0;
  for (const auto& m : *merges_it) {
    // Two spellings: "a b" (split at the first space) or ["a", "b"].
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos)
        throw Error(ErrorCode::kCorruptFile,
                    merge_field(where, rank) + ": '" + s + "' is not 'a b'");
      add_merge(s.substr(0, space), s.substr(space + 1), rank, where);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      add_merge(m[0].get_ref<const std::string&>(), m[1].get_ref<const std::string&>(), rank,
                where);
    } else {
      throw Error(ErrorCode::kCorruptFile,
                  merge_field(where, rank) + ": expected \"a b\" or [a, b]");
    }
    ++rank;
  }
}

void BpeModel::add_merge(const std::string& a, const std::string& b, int32_t rank,
                         const std::string& where) {
  int32_t ia = token_to_id(a), ib = token_to_id(b);
  if (ia < 0 || ib < 0)
    throw Error(ErrorCode::kCorruptFile,
                merge_field(where, rank) + ": merge part not in vocab ('" + a + "', '" + b + "')");
  // The merged token drops the right part's continuing-subword prefix.
  std::string merged = a;
  const size_t plen = continuing_subword_prefix_.size();
  if (plen > 0 && b.compare(0, plen, continuing_subword_prefix_) == 0) {
    merged.append(b, plen);
  } else {
    merged.append(b);
  }
  int32_t id = token_to_id(merged);
  if (id < 0)
    throw Error(ErrorCode::kCorruptFile,
                merge_field(where, rank) + ": merged token '" + merged + "' not in vocab");
  // HF collects the merges into a map in file order, so a repeated pair keeps its last rank.
  merges_.insert_or_assign(pair_key(ia, ib), Merge{rank, id});
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    int32_t id = token_to_id(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedLen;
  if (cacheable) {
    std::shared_lock lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() < kMaxCacheEntries) cache_.emplace(std::string(word), std::move(ids));
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool removed;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&symbols](int32_t id) {
    int32_t n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1, false});
  };

  // Initial symbols: one per character. HF defers an unknown character so consecutive
  // unknowns can fuse; the pending unk is flushed before the next in-vocab character only.
  int32_t pending_unk = -1;
  std::string piece;
  for (size_t pos = 0; pos < word.size();) {
    size_t start = pos;
    pos += utf8_char_len(static_cast<uint8_t>(word[pos]));
    if (pos > word.size()) pos = word.size();
    piece.clear();
    if (start > 0) piece.append(continuing_subword_prefix_);
    piece.append(word.substr(start, pos - start));
    if (pos == word.size()) piece.append(end_of_word_suffix_);
    int32_t id = token_to_id(piece);
    if (id >= 0) {
      if (pending_unk >= 0) {
        add(pending_unk);
        pending_unk = -1;
      }
      add(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char ch : piece) all = all && byte_ids_[static_cast<uint8_t>(ch)] >= 0;
      if (all) {
        for (char ch : piece) add(byte_ids_[static_cast<uint8_t>(ch)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
      pending_unk = *unk_id_;
    }
  }
  if (pending_unk >= 0) add(pending_unk);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    // std::priority_queue is a max-heap: "less" means higher rank, then further right.
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::vector<Candidate> initial;
  initial.reserve(symbols.size());
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    auto it = merges_.find(pair_key(symbols[i].id, symbols[i + 1].id));
    if (it != merges_.end())
      initial.push_back({it->second.rank, static_cast<int32_t>(i), it->second.new_id});
  }
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(initial));
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& cur = symbols[top.pos];
    if (cur.removed || cur.next < 0) continue;
    Symbol& right = symbols[cur.next];
    // Skip stale entries: the pair at this position changed since it was queued.
    auto it = merges_.find(pair_key(cur.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    cur.id = top.new_id;
    right.removed = true;
    cur.next = right.next;
    if (cur.next >= 0) symbols[cur.next].prev = top.pos;
    if (cur.prev >= 0) {
      auto m = merges_.find(pair_key(symbols[cur.prev].id, cur.id));
      if (m != merges_.end()) queue.push({m->second.rank, cur.prev, m->second.new_id});
    }
    if (cur.next >= 0) {
      auto m = merges_.find(pair_key(cur.id, symbols[cur.next].id));
      if (m != merges_.end()) queue.push({m->second.rank, top.pos, m->second.new_id});
    }
  }
  for (const Symbol& s : symbols)
    if (!s.removed) out.push_back(s.id);
}

}  // namespace insitu::tok
