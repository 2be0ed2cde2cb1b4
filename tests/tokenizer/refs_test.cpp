// Exact agreement with HF tokenizers on the shared reference files.
#include <gtest/gtest.h>

#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"

namespace insitu::test {
namespace {

// tokenizer_refs.json: ids come from encode(text) with the library default
// add_special_tokens=True; "decoded" is decode(ids) with skip_special_tokens=False.
void check_shared_refs(const std::string& name) {
  const auto& refs = cached_json(tokenizers_dir() + "/tokenizer_refs.json");
  const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/" + name + ".json");
  const auto& cases = refs.at("cases").at(name);
  ASSERT_EQ(cases.size(), 58u);
  int failures = 0;
  for (const auto& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> want = to_ids(c.at("ids"));
    std::vector<int32_t> got = tok.encode(text, true);
    EXPECT_EQ(got, want) << name << " text: '" << text << "'";
    EXPECT_EQ(tok.decode(want, false), c.at("decoded").get<std::string>())
        << name << " text: '" << text << "'";
    failures += got != want;
  }
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerRefs, ByteLevelBpe) {
  check_shared_refs("bytelevel-bpe");
}
TEST(TokenizerRefs, SentencePieceBpe) {
  check_shared_refs("spm-bpe");
}

// real/refs.json: ids without and with special tokens, decoded text of the plain ids.
void check_real_refs(const std::string& name) {
  const auto& refs = cached_json(tokenizers_dir() + "/real/refs.json");
  const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/real/" + name + "/tokenizer.json");
  const auto& cases = refs.at("tokenizers").at(name).at("cases");
  ASSERT_EQ(cases.size(), 56u);
  for (const auto& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    EXPECT_EQ(tok.encode(text, false), to_ids(c.at("ids"))) << name << " text: '" << text << "'";
    EXPECT_EQ(tok.encode(text, true), to_ids(c.at("ids_with_special")))
        << name << " text: '" << text << "'";
    EXPECT_EQ(tok.decode(to_ids(c.at("ids")), false), c.at("decoded").get<std::string>())
        << name << " text: '" << text << "'";
  }
}

TEST(TokenizerRefs, Llama2) {
  check_real_refs("llama2");
}
TEST(TokenizerRefs, Llama31) {
  check_real_refs("llama3_1");
}
TEST(TokenizerRefs, Qwen3) {
  check_real_refs("qwen3");
}

// llama.cpp's vocab tests: strings separated by "\n__ggml_vocab_test__\n", one line of ids
// per string, produced by the original HF tokenizers of the same model family.
void check_gguf_vocab(const std::string& vocab, const std::string& real) {
  const std::string base = tokenizers_dir() + "/gguf-vocab/ggml-vocab-" + vocab + ".gguf";
  const std::string inp = read_text_file(base + ".inp");
  const std::string out = read_text_file(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) next = inp.size();
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<std::vector<int32_t>> lines;
  for (size_t pos = 0; pos < out.size();) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::vector<int32_t> ids;
    std::string line = out.substr(pos, nl - pos);
    for (size_t p = 0; p < line.size();) {
      while (p < line.size() && line[p] == ' ') ++p;
      if (p >= line.size()) break;
      size_t q = line.find(' ', p);
      if (q == std::string::npos) q = line.size();
      ids.push_back(std::stoi(line.substr(p, q - p)));
      p = q;
    }
    lines.push_back(ids);
    pos = nl + 1;
  }
  ASSERT_EQ(texts.size(), lines.size()) << base;
  ASSERT_GT(texts.size(), 40u);
  const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/real/" + real + "/tokenizer.json");
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(tok.encode(texts[i], false), lines[i])
        << vocab << " #" << i << ": '" << texts[i] << "'";
}

TEST(TokenizerGgufVocab, Llama3Bpe) {
  check_gguf_vocab("llama-bpe", "llama3_1");
}
TEST(TokenizerGgufVocab, Qwen2) {
  check_gguf_vocab("qwen2", "qwen3");
}

// Every reference case streamed one id at a time: whole UTF-8 chunks adding up to decode().
void check_stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special,
                  const std::string& label) {
  StreamDecoder stream(tok, skip_special);
  std::string all;
  for (int32_t id : ids) {
    std::string chunk = stream.push(id);
    EXPECT_TRUE(tok::is_valid_utf8(chunk)) << label;
    all += chunk;
  }
  std::string rest = stream.flush();
  EXPECT_TRUE(tok::is_valid_utf8(rest)) << label;
  all += rest;
  EXPECT_EQ(all, tok.decode(ids, skip_special)) << label;
}

TEST(TokenizerStream, AllReferenceCases) {
  const auto& shared = cached_json(tokenizers_dir() + "/tokenizer_refs.json");
  for (const std::string name : {"bytelevel-bpe", "spm-bpe"}) {
    const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/" + name + ".json");
    for (const auto& c : shared.at("cases").at(name)) {
      for (bool skip : {false, true})
        check_stream(tok, to_ids(c.at("ids")), skip, name + ": " + c.at("text").get<std::string>());
    }
  }
  const auto& real = cached_json(tokenizers_dir() + "/real/refs.json");
  for (const std::string name : {"llama2", "llama3_1", "qwen3"}) {
    const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/real/" + name + "/tokenizer.json");
    for (const auto& c : real.at("tokenizers").at(name).at("cases")) {
      for (bool skip : {false, true})
        check_stream(tok, to_ids(c.at("ids_with_special")), skip,
                     name + ": " + c.at("text").get<std::string>());
    }
  }
}

// Chunks must never split a character: a 4-byte emoji arrives as byte tokens in llama2 and
// as partial byte-level pieces in Qwen3, and only whole characters may come out.
TEST(TokenizerStream, HoldsBackPartialCharacters) {
  const Tokenizer& tok = cached_tokenizer(tokenizers_dir() + "/real/llama2/tokenizer.json");
  std::vector<int32_t> ids = tok.encode("a 🦙 b", false);
  StreamDecoder stream(tok);
  std::vector<std::string> chunks;
  for (int32_t id : ids) chunks.push_back(stream.push(id));
  chunks.push_back(stream.flush());
  std::string all;
  for (const auto& c : chunks) {
    EXPECT_TRUE(tok::is_valid_utf8(c));
    EXPECT_EQ(c.find("\xEF\xBF\xBD"), std::string::npos);
    all += c;
  }
  EXPECT_EQ(all, "a 🦙 b");
  EXPECT_GT(ids.size(), 5u);  // the emoji really is split over several byte tokens
}

}  // namespace
}  // namespace insitu::test

namespace insitu::test {
namespace {

// Random id sequences are far nastier than model output (stray byte tokens, lone continuation
// bytes, special tokens mid-word); the stream must still add up to decode() exactly.
TEST(TokenizerStream, RandomIdSequences) {
  std::vector<std::string> paths = {tokenizers_dir() + "/bytelevel-bpe.json",
                                    tokenizers_dir() + "/spm-bpe.json",
                                    tokenizers_dir() + "/real/llama2/tokenizer.json",
                                    tokenizers_dir() + "/real/llama3_1/tokenizer.json",
                                    tokenizers_dir() + "/real/qwen3/tokenizer.json"};
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  for (const auto& path : paths) {
    const Tokenizer& tok = cached_tokenizer(path);
    for (int round = 0; round < 300; ++round) {
      std::vector<int32_t> ids;
      int n = 1 + static_cast<int>(next() % 24);
      for (int i = 0; i < n; ++i) {
        // Half the time a low id: byte tokens, special tokens and single characters live there.
        uint32_t r = next();
        ids.push_back(static_cast<int32_t>(r % 2 ? r % 300 : r % tok.vocab_size()));
      }
      check_stream(tok, ids, round % 2 == 0, path + " round " + std::to_string(round));
    }
  }
}

}  // namespace
}  // namespace insitu::test
