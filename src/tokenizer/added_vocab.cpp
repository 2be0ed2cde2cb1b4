#include "tokenizer/added_vocab.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode.h"

namespace insitu::tok {
namespace {

// The last character of text[0, end) / the first of text[begin, ...), or 0 when none.
char32_t char_before(std::string_view text, size_t end) {
  if (end == 0) return 0;
  size_t start = end - 1;
  while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
  return next_code_point(text, start);
}
char32_t char_at(std::string_view text, size_t begin) {
  if (begin >= text.size()) return 0;
  return next_code_point(text, begin);
}

}  // namespace

AddedVocab::AddedVocab(const nlohmann::json& added_tokens, const Normalizer* normalizer,
                       const std::string& where) {
  if (added_tokens.is_null()) return;
  if (!added_tokens.is_array()) throw Error(ErrorCode::kCorruptFile, where + ": not an array");
  for (size_t i = 0; i < added_tokens.size(); ++i) {
    const auto& j = added_tokens[i];
    std::string field = where + "[" + std::to_string(i) + "]";
    if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer() ||
        !j.contains("content") || !j["content"].is_string())
      throw Error(ErrorCode::kCorruptFile, field + ": needs integer 'id' and string 'content'");
    AddedToken t;
    t.content = j["content"].get<std::string>();
    int64_t id = j["id"].get<int64_t>();
    if (id < 0 || id > INT32_MAX) throw Error(ErrorCode::kCorruptFile, field + ".id: out of range");
    t.id = static_cast<int32_t>(id);
    t.special = j.value("special", false);
    // HF's default: special tokens are not normalized, others are.
    t.normalized = j.value("normalized", !t.special);
    t.lstrip = j.value("lstrip", false);
    t.rstrip = j.value("rstrip", false);
    t.single_word = j.value("single_word", false);
    if (t.content.empty()) continue;
    max_id_ = std::max(max_id_, t.id);
    by_content_[t.content] = t.id;
    by_id_[t.id] = tokens_.size();
    tokens_.push_back(std::move(t));
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    std::string match = t.content;
    if (t.normalized && normalizer) normalizer->normalize(match);
    if (match.empty()) continue;
    sets_[t.normalized ? 1 : 0][static_cast<uint8_t>(match[0])].push_back({match, i});
  }
  for (MatchSet& set : sets_) {
    for (auto& [byte, entries] : set) {
      std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.match.size() > b.match.size();
      });
    }
  }
}

std::vector<Segment> AddedVocab::split(std::string_view text, bool normalized_set) const {
  std::vector<Segment> out;
  const MatchSet& set = sets_[normalized_set ? 1 : 0];
  size_t start_offset = 0;  // end of the last emitted token
  size_t pos = 0;           // where the search resumes
  while (!set.empty() && pos < text.size()) {
    auto it = set.find(static_cast<uint8_t>(text[pos]));
    const Entry* hit = nullptr;
    if (it != set.end()) {
      for (const Entry& e : it->second) {
        if (text.compare(pos, e.match.size(), e.match) == 0) {
          hit = &e;
          break;
        }
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[hit->token];
    size_t begin = pos, end = pos + hit->match.size();
    pos = end;
    if (tok.single_word) {
      char32_t before = char_before(text, begin), after = char_at(text, end);
      if ((before && is_word_char(before)) || (after && is_word_char(after))) continue;
    }
    if (tok.lstrip) {
      size_t b = begin;
      while (b > start_offset) {
        size_t prev = b - 1;
        while (prev > start_offset && (static_cast<uint8_t>(text[prev]) & 0xC0) == 0x80) --prev;
        size_t p = prev;
        if (!is_whitespace(next_code_point(text, p))) break;
        b = prev;
      }
      begin = b;
    }
    if (tok.rstrip) {
      while (end < text.size()) {
        size_t p = end;
        if (!is_whitespace(next_code_point(text, p))) break;
        end = p;
      }
      pos = end;
    }
    if (begin > start_offset) out.push_back({-1, start_offset, begin});
    out.push_back({tok.id, begin, end});
    start_offset = end;
  }
  if (start_offset < text.size()) out.push_back({-1, start_offset, text.size()});
  return out;
}

int32_t AddedVocab::token_to_id(std::string_view content) const {
  auto it = by_content_.find(content);
  return it == by_content_.end() ? -1 : it->second;
}

const AddedToken* AddedVocab::find(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace insitu::tok
