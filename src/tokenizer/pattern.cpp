#include "tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace insitu::tok {

Regex::Regex(const std::string& pattern, const std::string& where) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    throw Error(ErrorCode::kCorruptFile, where + ": cannot compile regex '" + pattern +
                                             "' at offset " + std::to_string(err_offset) + ": " +
                                             reinterpret_cast<const char*>(msg));
  }
  // JIT is an optimisation only; pcre2_match falls back to the interpreter without it.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::vector<Span> Regex::find_all(std::string_view text) const {
  std::vector<Span> out;
  if (text.empty()) return out;
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (!md) throw Error(ErrorCode::kOutOfMemory, "pcre2_match_data_create failed");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof(msg));
      throw Error(ErrorCode::kInternal,
                  std::string("regex match failed: ") + reinterpret_cast<const char*>(msg));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (e > b) {
      out.push_back({b, e});
      pos = e;
    } else {
      // Empty match: step over one character, as Oniguruma's iterator does.
      if (b >= text.size()) break;
      pos = b + 1;
      while (pos < text.size() && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  pcre2_match_data_free(md);
  return out;
}

Pattern::Pattern(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(ErrorCode::kCorruptFile, where + ": pattern must be an object");
  if (j.contains("String") && j["String"].is_string()) {
    literal_ = j["String"].get<std::string>();
  } else if (j.contains("Regex") && j["Regex"].is_string()) {
    regex_ = std::make_shared<Regex>(j["Regex"].get<std::string>(), where);
  } else {
    throw Error(ErrorCode::kCorruptFile, where + ": pattern needs a String or Regex field");
  }
}

std::vector<Span> Pattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<Span> out;
  if (literal_.empty()) return out;
  for (size_t pos = text.find(literal_); pos != std::string_view::npos;
       pos = text.find(literal_, pos + literal_.size())) {
    out.push_back({pos, pos + literal_.size()});
  }
  return out;
}

SplitBehavior parse_split_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw Error(ErrorCode::kUnsupported, where + ": unknown split behavior '" + name + "'");
}

std::vector<Span> split_by_matches(size_t text_len, const std::vector<Span>& matches,
                                   SplitBehavior behavior, bool invert) {
  // Cover the text with alternating (span, is_match) pieces, as HF's find_matches does.
  struct Piece {
    Span span;
    bool is_match;
  };
  std::vector<Piece> pieces;
  size_t prev = 0;
  for (const Span& m : matches) {
    if (m.begin > prev) pieces.push_back({{prev, m.begin}, invert});
    pieces.push_back({m, !invert});
    prev = m.end;
  }
  if (prev < text_len) pieces.push_back({{prev, text_len}, invert});

  std::vector<Span> out;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Piece& p : pieces)
        if (!p.is_match) out.push_back(p.span);
      break;
    case SplitBehavior::kIsolated:
      for (const Piece& p : pieces) out.push_back(p.span);
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Piece& p : pieces) {
        if (p.is_match && !previous_match && !out.empty()) {
          out.back().end = p.span.end;
        } else {
          out.push_back(p.span);
        }
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().begin = it->span.begin;
        } else {
          out.push_back(it->span);
        }
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const Piece& p : pieces) {
        if (p.is_match == previous_match && !out.empty()) {
          out.back().end = p.span.end;
        } else {
          out.push_back(p.span);
        }
        previous_match = p.is_match;
      }
      break;
    }
  }
  std::erase_if(out, [](const Span& s) { return s.begin == s.end; });
  return out;
}

}  // namespace insitu::tok
