// The demo model's tokenizer against transformers' references for the trained checkpoint.
#include <gtest/gtest.h>

#include <chrono>

#include "tokenizer_test_util.h"

namespace insitu::test {
namespace {

std::string demo_dir() {
  return source_dir() + "/models/demo-llama-14m";
}
const nlohmann::json& demo_refs() {
  return cached_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json");
}

TEST(TokenizerDemo, GreedyPromptsAndContinuations) {
  const Tokenizer& tok = cached_tokenizer(demo_dir() + "/tokenizer.json");
  const auto& greedy = demo_refs().at("greedy");
  ASSERT_GE(greedy.size(), 3u);
  for (const auto& g : greedy) {
    const std::string prompt = g.at("prompt").get<std::string>();
    EXPECT_EQ(tok.encode(prompt, false), to_ids(g.at("prompt_ids"))) << prompt;
    EXPECT_EQ(tok.decode(to_ids(g.at("greedy_ids")), true), g.at("greedy_text").get<std::string>())
        << prompt;
  }
}

TEST(TokenizerDemo, ChatPrompt) {
  const Tokenizer& tok = cached_tokenizer(demo_dir() + "/tokenizer.json");
  const auto& chat = demo_refs().at("chat");
  const std::string text = chat.at("prompt_text").get<std::string>();
  // The rendered template carries <|im_start|>/<|im_end|> literally: they must become their
  // special ids, not text.
  EXPECT_EQ(tok.encode(text, false), to_ids(chat.at("prompt_ids")));
  EXPECT_EQ(tok.decode(to_ids(chat.at("prompt_ids")), false), text);
  EXPECT_EQ(tok.decode(to_ids(chat.at("greedy_ids")), true),
            chat.at("greedy_text").get<std::string>());
}

TEST(TokenizerDemo, FromDirReadsConfig) {
  Tokenizer tok = Tokenizer::from_dir(demo_dir());
  EXPECT_EQ(tok.vocab_size(), 4096u);
  EXPECT_EQ(tok.token_to_id("<|im_start|>"), 1);
  EXPECT_EQ(tok.id_to_token(2), "<|im_end|>");
  EXPECT_TRUE(tok.is_special(0));
  EXPECT_FALSE(tok.is_special(100));
  EXPECT_EQ(tok.token_to_id("no such token"), -1);
  ASSERT_TRUE(tok.eos_id().has_value());
  EXPECT_TRUE(tok.is_special(*tok.eos_id()));
}

TEST(TokenizerDemo, EvalTextTokenCountAndSpeed) {
  const std::string text = read_text_file(shared_dir() + "/data/eval.txt");
  // A fresh tokenizer so the word cache starts cold and the timing is honest.
  Tokenizer tok = Tokenizer::from_file(demo_dir() + "/tokenizer.json");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> ids = tok.encode(text, false);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ids.size(), demo_refs().at("perplexity").at("eval_tokens").get<size_t>());
  EXPECT_EQ(ids.size(), 88141u);
  EXPECT_EQ(tok.decode(ids, false), text);  // byte-level BPE is lossless
  std::printf("eval.txt: %zu bytes -> %zu tokens in %.3f s\n", text.size(), ids.size(), seconds);
  EXPECT_LT(seconds, 1.0);
}

}  // namespace
}  // namespace insitu::test
