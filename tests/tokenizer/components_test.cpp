// Component behaviour on small hand-written tokenizer.json files: split behaviours,
// normalizers, pre-tokenizers, BPE options, WordPiece, added-token flags.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "core/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pattern.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer_test_util.h"

namespace insitu::test {
namespace {

using nlohmann::json;

std::string write_temp(const std::string& contents) {
  static std::atomic<int> counter{0};
  auto path = std::filesystem::temp_directory_path() / ("insitu_tok_" + std::to_string(::getpid()) +
                                                        "_" + std::to_string(counter++) + ".json");
  std::ofstream(path) << contents;
  return path.string();
}

Tokenizer make(const json& j) {
  std::string path = write_temp(j.dump());
  Tokenizer t = Tokenizer::from_file(path);
  std::filesystem::remove(path);
  return t;
}

// A character-level BPE over "abc" plus unk, for option tests.
json small_bpe() {
  return json::parse(R"({
    "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
    "post_processor": null, "decoder": null,
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": false,
              "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "abc": 5, " ": 6},
              "merges": ["a b"]}})");
}

std::vector<std::string> split_texts(const std::string& text, tok::SplitBehavior b, bool invert) {
  std::vector<tok::Span> matches;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '-') matches.push_back({i, i + 1});
  std::vector<std::string> out;
  for (const auto& s : tok::split_by_matches(text.size(), matches, b, invert))
    out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(TokenizerSplit, Behaviours) {
  using B = tok::SplitBehavior;
  using V = std::vector<std::string>;
  EXPECT_EQ(split_texts("a-b--c", B::kRemoved, false), (V{"a", "b", "c"}));
  EXPECT_EQ(split_texts("a-b--c", B::kIsolated, false), (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(split_texts("a-b--c", B::kMergedWithPrevious, false), (V{"a-", "b-", "-", "c"}));
  EXPECT_EQ(split_texts("a-b--c", B::kMergedWithNext, false), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(split_texts("a-b--c", B::kContiguous, false), (V{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(split_texts("a-b--c", B::kRemoved, true), (V{"-", "-", "-"}));
}

TEST(TokenizerSplit, RegexLookaheadAndUnicodeClasses) {
  tok::Regex re(R"(\s+(?!\S)|\s+|\p{L}+|\p{N})", "test");
  std::string text = "héllo  wörld 42";
  std::vector<std::string> got;
  for (const auto& s : re.find_all(text)) got.push_back(text.substr(s.begin, s.end - s.begin));
  EXPECT_EQ(got, (std::vector<std::string>{"héllo", " ", " ", "wörld", " ", "4", "2"}));
}

std::string normalize(const char* spec, std::string text) {
  auto n = tok::make_normalizer(json::parse(spec), "normalizer");
  n->normalize(text);
  return text;
}

TEST(TokenizerNormalizer, Kinds) {
  EXPECT_EQ(normalize(R"({"type":"Lowercase"})", "ÀB İ"), "àb i\xCC\x87");
  EXPECT_EQ(normalize(R"({"type":"NFKC"})", "ﬁ①"), "fi1");
  EXPECT_EQ(normalize(R"({"type":"NFD"})", "é"), "e\xCC\x81");
  EXPECT_EQ(normalize(R"({"type":"NFC"})", "e\xCC\x81"), "é");
  EXPECT_EQ(normalize(R"({"type":"Strip","strip_left":true,"strip_right":false})", " \u3000x "),
            "x ");
  EXPECT_EQ(normalize(R"({"type":"Replace","pattern":{"Regex":" {2,}"},"content":"_"})", "a  b c"),
            "a_b c");
  EXPECT_EQ(normalize(R"({"type":"Prepend","prepend":"▁"})", ""), "");
  EXPECT_EQ(normalize(R"({"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},
                      {"type":"Lowercase"}]})",
                      "Éte"),
            "ete");
}

std::vector<std::string> pre_tokenize(const char* spec, const std::string& text, bool at_origin) {
  auto p = tok::make_pre_tokenizer(json::parse(spec), "pre_tokenizer");
  std::vector<tok::Piece> pieces{{text, at_origin}};
  p->pre_tokenize(pieces);
  std::vector<std::string> out;
  for (const auto& piece : pieces) out.push_back(piece.text);
  return out;
}

TEST(TokenizerPreTokenizer, Kinds) {
  using V = std::vector<std::string>;
  const char* first =
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true})";
  EXPECT_EQ(pre_tokenize(first, "hi there", true), (V{"▁hi", "▁there"}));
  EXPECT_EQ(pre_tokenize(first, "hi there", false), (V{"hi", "▁there"}));
  const char* never =
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":false})";
  EXPECT_EQ(pre_tokenize(never, "hi there", true), (V{"hi▁there"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":true})", "a123b", true),
            (V{"a", "1", "2", "3", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":false})", "a123b", true),
            (V{"a", "123", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Punctuation","behavior":"Isolated"})", "hi!?", true),
            (V{"hi", "!", "?"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Whitespace"})", "Hey  you!!", true), (V{"Hey", "you", "!!"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"WhitespaceSplit"})", " a\tb ", true), (V{"a", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":true})",
                         "Hi you", true),
            (V{"ĠHi", "Ġyou"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext",
                         "invert":false})",
                         "a-b", true),
            (V{"a", "-b"}));
}

TEST(TokenizerBpe, UnknownsFuseOnlyWhenAsked) {
  json j = small_bpe();
  EXPECT_EQ(make(j).encode("abxyab", false), (std::vector<int32_t>{4, 0, 0, 4}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(make(j).encode("abxyab", false), (std::vector<int32_t>{4, 0, 4}));
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeWord) {
  json j = small_bpe();
  EXPECT_EQ(make(j).encode("abc", false), (std::vector<int32_t>{4, 3}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(make(j).encode("abc", false), (std::vector<int32_t>{5}));
}

TEST(TokenizerBpe, MergesAsPairs) {
  json j = small_bpe();
  j["model"]["merges"] = json::parse(R"([["a", "b"], ["ab", "c"]])");
  EXPECT_EQ(make(j).encode("cabc", false), (std::vector<int32_t>{3, 5}));
}

TEST(TokenizerBpe, InvalidUtf8IsRepaired) {
  const Tokenizer& tok = cached_tokenizer(source_dir() + "/models/demo-llama-14m/tokenizer.json");
  EXPECT_EQ(tok.encode("a\xff"
                       "b",
                       false),
            tok.encode("a\xEF\xBF\xBD"
                       "b",
                       false));
  EXPECT_EQ(tok.decode(tok.encode("a\xff"
                                  "b",
                                  false),
                       false),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(TokenizerAddedTokens, StripAndSingleWordFlags) {
  json j = small_bpe();
  j["added_tokens"] = json::parse(R"([
    {"id": 10, "content": "<m>", "special": true, "normalized": false,
     "lstrip": true, "rstrip": true, "single_word": false},
    {"id": 11, "content": "ca", "special": false, "normalized": false,
     "lstrip": false, "rstrip": false, "single_word": true}])");
  Tokenizer tok = make(j);
  // lstrip/rstrip swallow the spaces around <m>.
  EXPECT_EQ(tok.encode("a <m> b", false), (std::vector<int32_t>{1, 10, 2}));
  // "ca" only counts as a whole word.
  EXPECT_EQ(tok.encode("ca", false), (std::vector<int32_t>{11}));
  EXPECT_EQ(tok.encode("cab", false), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, 10, 2}, true), "a b");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, 10, 2}, false), "a <m> b");
  EXPECT_TRUE(tok.is_special(10));
  EXPECT_FALSE(tok.is_special(11));
  EXPECT_EQ(tok.vocab_size(), 12u);
}

TEST(TokenizerAddedTokens, NormalizedTokensMatchAfterNormalization) {
  json j = small_bpe();
  j["normalizer"] = json::parse(R"({"type": "Lowercase"})");
  j["added_tokens"] = json::parse(R"([{"id": 12, "content": "CAB", "special": false,
     "normalized": true, "lstrip": false, "rstrip": false, "single_word": false}])");
  EXPECT_EQ(make(j).encode("aCaBa", false), (std::vector<int32_t>{1, 12, 1}));
}

TEST(TokenizerWordPiece, BertStyle) {
  Tokenizer tok = make(json::parse(R"({
    "added_tokens": [{"id": 5, "content": "[CLS]", "special": true, "normalized": false,
                      "lstrip": false, "rstrip": false, "single_word": false},
                     {"id": 6, "content": "[SEP]", "special": true, "normalized": false,
                      "lstrip": false, "rstrip": false, "single_word": false}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": null, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 6], "cls": ["[CLS]", 5]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "hello": 4, "[CLS]": 5,
                        "[SEP]": 6, "!": 7}}})"));
  std::vector<int32_t> ids = tok.encode("UnAffáble hello! xyz", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{5, 1, 2, 3, 4, 7, 0, 6}));
  EXPECT_EQ(tok.decode(ids, true), "unaffable hello! [UNK]");
}

json small_unigram() {
  return json::parse(R"({
    "added_tokens": [], "normalizer": null, "post_processor": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                      "split": true},
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                "split": true},
    "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
              "vocab": [["<unk>", 0.0], ["▁", -1.0], ["a", -1.0], ["b", -1.0], ["ab", -1.5],
                        ["abc", -4.0], ["c", -2.0], ["▁ab", -2.0], ["<0x78>", -5.0]]}})");
}

TEST(TokenizerUnigram, BestScoringSegmentation) {
  Tokenizer tok = make(small_unigram());
  // "▁abc": ▁ab + c (-4) beats ▁ + ab + c (-4.5) and ▁ + abc (-5).
  EXPECT_EQ(tok.encode("abc", false), (std::vector<int32_t>{7, 6}));
  // Unknown characters score min_score - 10 each and fuse into one <unk>.
  EXPECT_EQ(tok.encode("abyzc", false), (std::vector<int32_t>{7, 0, 6}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{7, 6, 1, 2}, false), "abc a");
}

TEST(TokenizerUnigram, ByteFallbackForUnknownRuns) {
  json j = small_unigram();
  j["model"]["byte_fallback"] = true;
  Tokenizer tok = make(j);
  EXPECT_EQ(tok.encode("abx", false), (std::vector<int32_t>{7, 8}));   // x -> <0x78>
  EXPECT_EQ(tok.encode("abxy", false), (std::vector<int32_t>{7, 0}));  // no <0x79>: unk
}

TEST(TokenizerThreads, ConcurrentEncodeAgrees) {
  const Tokenizer& tok = cached_tokenizer(source_dir() + "/models/demo-llama-14m/tokenizer.json");
  const std::string text = "And God said, Let there be light: and there was light. ";
  std::string big;
  for (int i = 0; i < 50; ++i) big += text + std::to_string(i) + " ";
  const std::vector<int32_t> want = tok.encode(big, false);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) mismatches += tok.encode(big, false) != want;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Bad input: errors carry the right code and name the file or field.
void expect_error(const std::function<void()>& fn, ErrorCode code, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, BadInput) {
  expect_error([] { Tokenizer::from_file("/nonexistent/dir/tokenizer.json"); },
               ErrorCode::kNotFound, "/nonexistent/dir/tokenizer.json");
  expect_error([] { Tokenizer::from_dir("/nonexistent/dir"); }, ErrorCode::kNotFound,
               "/nonexistent/dir/tokenizer.json");
  std::string bad = write_temp("{\"model\": {\"type\": \"BPE\", ");
  expect_error([&] { Tokenizer::from_file(bad); }, ErrorCode::kCorruptFile, bad);
  std::filesystem::remove(bad);

  json j = small_bpe();
  j["model"]["type"] = "Telepathy";
  expect_error([&] { make(j); }, ErrorCode::kUnsupported, "model.type");
  j = small_bpe();
  j["normalizer"] = json::parse(R"({"type": "Precompiled", "precompiled_charsmap": ""})");
  expect_error([&] { make(j); }, ErrorCode::kUnsupported, "normalizer.type");
  j = small_bpe();
  j["pre_tokenizer"] = json::parse(R"({"type": "Sequence", "pretokenizers": [{"type": "Nope"}]})");
  expect_error([&] { make(j); }, ErrorCode::kUnsupported, "pre_tokenizer.pretokenizers[0].type");
  j = small_bpe();
  j["model"]["merges"] = json::parse(R"(["a zz"])");
  expect_error([&] { make(j); }, ErrorCode::kCorruptFile, "model.merges[0]");
  j = small_bpe();
  j["model"]["unk_token"] = "<nope>";
  expect_error([&] { make(j); }, ErrorCode::kCorruptFile, "model.unk_token");
  j = small_bpe();
  j["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "(unclosed"},
                                      "behavior": "Isolated", "invert": false})");
  expect_error([&] { make(j); }, ErrorCode::kCorruptFile, "pre_tokenizer.pattern");
  j = small_bpe();
  j.erase("model");
  expect_error([&] { make(j); }, ErrorCode::kCorruptFile, "model");
}

}  // namespace
}  // namespace insitu::test
