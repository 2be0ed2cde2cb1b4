#include "tokenizer/model_unigram.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace insitu::tok {

namespace {
constexpr double kUnkPenalty = 10.0;
}

UnigramModel::UnigramModel(const nlohmann::json& j, const std::string& where) {
  auto vit = j.find("vocab");
  if (vit == j.end() || !vit->is_array())
    throw Error(ErrorCode::kCorruptFile,
                where + ".vocab: missing or not an array of [piece, score]");
  const size_t n = vit->size();
  id_to_token_.resize(n);
  has_id_.assign(n, true);
  scores_.resize(n);
  vocab_.reserve(n);
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const auto& e = (*vit)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      throw Error(ErrorCode::kCorruptFile,
                  where + ".vocab[" + std::to_string(i) + "]: expected [piece, score]");
    id_to_token_[i] = e[0].get<std::string>();
    scores_[i] = e[1].get<double>();
    min_score_ = std::min(min_score_, scores_[i]);
    vocab_.emplace(id_to_token_[i], static_cast<int32_t>(i));
    for (size_t len = 1; len <= id_to_token_[i].size(); ++len)
      prefixes_.insert(id_to_token_[i].substr(0, len));
  }
  if (j.contains("unk_id") && j["unk_id"].is_number_integer()) {
    int64_t u = j["unk_id"].get<int64_t>();
    if (u < 0 || static_cast<size_t>(u) >= n)
      throw Error(ErrorCode::kCorruptFile, where + ".unk_id: out of range");
    unk_id_ = static_cast<int32_t>(u);
  }
  byte_fallback_ = j.value("byte_fallback", false);
}

void UnigramModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  struct Node {
    int32_t id = -1;
    int64_t start = -1;  // -1: not reached
    double score = 0.0;
  };
  const size_t size = word.size();
  std::vector<Node> best(size + 1);
  best[0].start = 0;
  const double unk_score = min_score_ - kUnkPenalty;
  for (size_t start = 0; start < size;) {
    const double base = best[start].score;
    const size_t char_len =
        std::min(utf8_char_len(static_cast<uint8_t>(word[start])), size - start);
    bool has_single = false;
    // Candidates in order of increasing length; a strictly better score replaces, so on ties
    // the earliest-starting, shortest candidate stays, as in HF.
    for (size_t end = start + 1; end <= size; ++end) {
      std::string_view piece = word.substr(start, end - start);
      if (prefixes_.find(piece) == prefixes_.end()) break;
      auto it = vocab_.find(piece);
      if (it == vocab_.end()) continue;
      double cand = base + scores_[it->second];
      Node& target = best[end];
      if (target.start < 0 || cand > target.score)
        target = {it->second, static_cast<int64_t>(start), cand};
      if (end - start == char_len) has_single = true;
    }
    if (!has_single) {
      if (unk_id_ < 0)
        throw Error(
            ErrorCode::kInvalidArgument,
            "Unigram model has no unk_id for '" + std::string(word.substr(start, char_len)) + "'");
      Node& target = best[start + char_len];
      double cand = base + unk_score;
      if (target.start < 0 || cand > target.score)
        target = {unk_id_, static_cast<int64_t>(start), cand};
    }
    start += char_len;
  }
  // Walk back; unknown pieces fuse into one string, looked up again (then byte fallback/unk).
  std::vector<std::string> pieces;
  std::vector<int32_t> ids;  // -1: a fused unknown string in `pieces`
  size_t unk_end = 0;
  bool in_unk = false;
  for (size_t end = size; end > 0;) {
    const Node& node = best[end];
    size_t start = static_cast<size_t>(node.start);
    if (node.id == unk_id_) {
      if (!in_unk) unk_end = end;
      in_unk = true;
    } else {
      if (in_unk) {
        pieces.emplace_back(word.substr(end, unk_end - end));
        ids.push_back(-1);
        in_unk = false;
      }
      pieces.emplace_back();
      ids.push_back(node.id);
    }
    end = start;
  }
  if (in_unk) {
    pieces.emplace_back(word.substr(0, unk_end));
    ids.push_back(-1);
  }
  for (size_t k = ids.size(); k-- > 0;) {
    if (ids[k] >= 0) {
      out.push_back(ids[k]);
      continue;
    }
    int32_t id = token_to_id(pieces[k]);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (char ch : pieces[k]) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<uint8_t>(ch));
        int32_t b = token_to_id(name);
        if (b < 0) break;
        bytes.push_back(b);
      }
      if (bytes.size() == pieces[k].size()) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    out.push_back(unk_id_);
  }
}

}  // namespace insitu::tok
