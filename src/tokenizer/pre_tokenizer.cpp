#include "tokenizer/pre_tokenizer.h"

#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/pattern.h"
#include "tokenizer/unicode.h"

namespace insitu::tok {
namespace {

using nlohmann::json;

// The pattern GPT-2's ByteLevel pre-tokenizer splits on when use_regex is set.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Splits every piece at `find(text)` with `behavior`, keeping at_origin only on a split that
// starts where its parent started.
void split_pieces(std::vector<Piece>& pieces,
                  const std::function<std::vector<Span>(const std::string&)>& find,
                  SplitBehavior behavior, bool invert) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece& p : pieces) {
    std::vector<Span> spans = split_by_matches(p.text.size(), find(p.text), behavior, invert);
    for (const Span& s : spans)
      out.push_back({p.text.substr(s.begin, s.end - s.begin), p.at_origin && s.begin == 0});
  }
  pieces = std::move(out);
}

// Each character satisfying `pred` is one match, as HF's Fn(char) -> bool pattern.
std::vector<Span> char_matches(const std::string& text, bool (*pred)(char32_t)) {
  std::vector<Span> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t start = pos;
    if (pred(next_code_point(text, pos))) out.push_back({start, pos});
  }
  return out;
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items)
      : items_(std::move(items)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& p : items_) p->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(
        pieces, [this](const std::string& t) { return pattern_.find_all(t); }, behavior_, invert_);
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, "ByteLevel");
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_) {
      for (Piece& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
    }
    if (regex_) {
      split_pieces(
          pieces, [this](const std::string& t) { return regex_->find_all(t); },
          SplitBehavior::kIsolated, false);
    }
    const std::string* table = byte_to_unicode();
    for (Piece& p : pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (char ch : p.text) mapped.append(table[static_cast<uint8_t>(ch)]);
      p.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kFirst, kAlways, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (Piece& p : pieces) {
      std::string replaced;
      replaced.reserve(p.text.size() + replacement_.size());
      for (char ch : p.text) {
        if (ch == ' ') {
          replaced.append(replacement_);
        } else {
          replaced.push_back(ch);
        }
      }
      bool starts = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::kAlways ||
                      (scheme_ == PrependScheme::kFirst && p.at_origin))) {
        replaced.insert(0, replacement_);
      }
      p.text = std::move(replaced);
    }
    if (split_) {
      split_pieces(
          pieces,
          [this](const std::string& t) {
            std::vector<Span> m;
            for (size_t pos = t.find(replacement_); pos != std::string::npos;
                 pos = t.find(replacement_, pos + replacement_.size()))
              m.push_back({pos, pos + replacement_.size()});
            return m;
          },
          SplitBehavior::kMergedWithNext, false);
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class CharClassPreTokenizer : public PreTokenizer {
 public:
  CharClassPreTokenizer(bool (*pred)(char32_t), SplitBehavior behavior)
      : pred_(pred), behavior_(behavior) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(
        pieces, [this](const std::string& t) { return char_matches(t, pred_); }, behavior_, false);
  }

 private:
  bool (*pred_)(char32_t);
  SplitBehavior behavior_;
};

// HF's Whitespace: keeps the matches of \w+|[^\w\s]+ and drops everything between them.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(R"(\w+|[^\w\s]+)", "Whitespace") {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(
        pieces, [this](const std::string& t) { return regex_.find_all(t); },
        SplitBehavior::kRemoved, true);
  }

 private:
  Regex regex_;
};

bool bool_field(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<bool>();
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(ErrorCode::kCorruptFile, where + ": expected an object with a string 'type'");
  const std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    const json& list = j.at("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_pre_tokenizer(list[i], where + ".pretokenizers[" + std::to_string(i) + "]");
      if (p) items.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(
        Pattern(j.at("pattern"), where + ".pattern"),
        parse_split_behavior(j.at("behavior").get<std::string>(), where + ".behavior"),
        bool_field(j, "invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(bool_field(j, "add_prefix_space", true),
                                                   bool_field(j, "use_regex", true));
  }
  if (type == "Metaspace") {
    std::string replacement = j.value("replacement", std::string("\xE2\x96\x81"));
    PrependScheme scheme = PrependScheme::kAlways;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      std::string s = j["prepend_scheme"].get<std::string>();
      if (s == "first") {
        scheme = PrependScheme::kFirst;
      } else if (s == "always") {
        scheme = PrependScheme::kAlways;
      } else if (s == "never") {
        scheme = PrependScheme::kNever;
      } else {
        throw Error(ErrorCode::kUnsupported, where + ".prepend_scheme: unknown value '" + s + "'");
      }
    } else if (!bool_field(j, "add_prefix_space", true)) {
      scheme = PrependScheme::kNever;  // the pre-0.19 format
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme,
                                                   bool_field(j, "split", true));
  }
  if (type == "Digits") {
    return std::make_unique<CharClassPreTokenizer>(
        is_numeric, bool_field(j, "individual_digits", false) ? SplitBehavior::kIsolated
                                                              : SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    SplitBehavior b = SplitBehavior::kIsolated;
    if (j.contains("behavior") && j["behavior"].is_string())
      b = parse_split_behavior(j["behavior"].get<std::string>(), where + ".behavior");
    return std::make_unique<CharClassPreTokenizer>(is_punctuation, b);
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit")
    return std::make_unique<CharClassPreTokenizer>(is_whitespace, SplitBehavior::kRemoved);
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    items.push_back(
        std::make_unique<CharClassPreTokenizer>(is_whitespace, SplitBehavior::kRemoved));
    items.push_back(
        std::make_unique<CharClassPreTokenizer>(is_punctuation, SplitBehavior::kIsolated));
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  throw Error(ErrorCode::kUnsupported, where + ".type: unsupported pre_tokenizer '" + type + "'");
}

}  // namespace insitu::tok
