#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "tokenizer/pattern.h"
#include "tokenizer/unicode.h"

namespace insitu::tok {
namespace {

using nlohmann::json;

std::string unicode_map(const std::string& text, int options) {
  if (text.empty()) return text;
  utf8proc_uint8_t* dst = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &dst,
                                    static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  if (n < 0) return text;  // unreachable for valid UTF-8 input; leave the text unchanged
  std::string out(reinterpret_cast<char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(int options) : options_(options) {}
  void normalize(std::string& text) const override { text = unicode_map(text, options_); }

 private:
  int options_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> items)
      : items_(std::move(items)) {}
  void normalize(std::string& text) const override {
    for (const auto& n : items_) n->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  // HF prepends only to non-empty text.
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    std::vector<Span> matches = pattern_.find_all(text);
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size());
    size_t prev = 0;
    for (const Span& m : matches) {
      out.append(text, prev, m.begin - prev);
      out.append(content_);
      prev = m.end;
    }
    out.append(text, prev);
    text = std::move(out);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Rust's char::to_lowercase: the full mapping, whose only multi-character result is U+0130.
void append_lower(std::string& out, char32_t c) {
  if (c == 0x130) {
    out.append("i\xCC\x87");
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) append_lower(out, next_code_point(text, pos));
    text = std::move(out);
  }
};

void strip_whitespace(std::string& text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  if (left) {
    while (begin < end) {
      size_t p = begin;
      if (!is_whitespace(next_code_point(text, p))) break;
      begin = p;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
      size_t p = start;
      if (!is_whitespace(next_code_point(text, p))) break;
      end = start;
    }
  }
  text = text.substr(begin, end - begin);
}

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override { strip_whitespace(text, left_, right_); }

 private:
  bool left_, right_;
};

void remove_nonspacing_marks(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    char32_t c = next_code_point(text, pos);
    if (!is_mark_nonspacing(c)) append_utf8(out, c);
  }
  text = std::move(out);
}

class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override { remove_nonspacing_marks(text); }
};

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CN ||
         k == UTF8PROC_CATEGORY_CO;
}

// BERT's normalizer: control characters dropped, whitespace to ' ', CJK ideographs padded with
// spaces, optional accent stripping (NFD then drop Mn) and lowercasing.
class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text),
        chinese_(chinese),
        strip_accents_(strip_accents),
        lowercase_(lowercase) {}
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      char32_t c = next_code_point(text, pos);
      if (clean_text_) {
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (is_whitespace(c)) c = ' ';
      }
      if (chinese_ && is_chinese_char(c)) {
        out.push_back(' ');
        append_utf8(out, c);
        out.push_back(' ');
      } else {
        append_utf8(out, c);
      }
    }
    if (strip_accents_) {
      out = unicode_map(out, UTF8PROC_DECOMPOSE);
      remove_nonspacing_marks(out);
    }
    if (lowercase_) LowercaseNormalizer().normalize(out);
    text = std::move(out);
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

bool bool_field(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<bool>();
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw Error(ErrorCode::kCorruptFile, where + "." + key + ": missing or not a string");
  return it->get<std::string>();
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(ErrorCode::kCorruptFile, where + ": expected an object with a string 'type'");
  const std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> items;
    const json& list = j.at("normalizers");
    for (size_t i = 0; i < list.size(); ++i) {
      auto n = make_normalizer(list[i], where + ".normalizers[" + std::to_string(i) + "]");
      if (n) items.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(UTF8PROC_COMPOSE);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(UTF8PROC_DECOMPOSE);
  if (type == "NFKC")
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD")
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Prepend")
    return std::make_unique<PrependNormalizer>(string_field(j, "prepend", where));
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(Pattern(j.at("pattern"), where + ".pattern"),
                                               string_field(j, "content", where));
  }
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(bool_field(j, "strip_left", true),
                                             bool_field(j, "strip_right", true));
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "BertNormalizer") {
    bool lowercase = bool_field(j, "lowercase", true);
    return std::make_unique<BertNormalizer>(bool_field(j, "clean_text", true),
                                            bool_field(j, "handle_chinese_chars", true),
                                            bool_field(j, "strip_accents", lowercase), lowercase);
  }
  throw Error(ErrorCode::kUnsupported, where + ".type: unsupported normalizer '" + type + "'");
}

}  // namespace insitu::tok
