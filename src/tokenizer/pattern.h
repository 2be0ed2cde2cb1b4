// Patterns and delimiter splitting shared by normalizers (Replace) and pre-tokenizers (Split).
//
// HF writes regexes for the Oniguruma engine; PCRE2 with UTF + UCP accepts the same syntax for
// everything tokenizer.json files use (\p{L}, \s, lookahead, (?i:...)) with the same meaning.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace insitu::tok {

struct Span {
  size_t begin;
  size_t end;
};

// A compiled PCRE2 regex (JIT when available). Immutable and shareable between threads.
class Regex {
 public:
  // `where` names the tokenizer.json field for error messages.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // All non-overlapping, non-empty matches, left to right. `text` must be valid UTF-8.
  std::vector<Span> find_all(std::string_view text) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
};

// {"String": "..."} or {"Regex": "..."} from tokenizer.json.
class Pattern {
 public:
  Pattern(const nlohmann::json& j, const std::string& where);
  std::vector<Span> find_all(std::string_view text) const;

 private:
  std::string literal_;
  std::shared_ptr<Regex> regex_;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
SplitBehavior parse_split_behavior(const std::string& name, const std::string& where);

// Splits `text` at `matches` (sorted, non-overlapping) the way HF's NormalizedString::split
// does, returning the non-empty pieces. With `invert` the matches are the kept content and the
// gaps the delimiters.
std::vector<Span> split_by_matches(size_t text_len, const std::vector<Span>& matches,
                                   SplitBehavior behavior, bool invert);

}  // namespace insitu::tok
