// The trained demo model against transformers (../shared/models/trained-llama-14m-refs):
// greedy continuations token-identical, the chat prompt rendered and tokenized identically with
// an identical greedy reply, and the reference perplexity protocol.
#include <gtest/gtest.h>

#include "../model/reference_logits.h"
#include "core/mapped_file.h"
#include "runtime/engine.h"
#include "runtime/perplexity.h"
#include "runtime/session.h"
#include "test_paths.h"

namespace insitu {
namespace {

std::string demo_dir() {
  return test::source_dir() + "/models/demo-llama-14m";
}
nlohmann::json refs() {
  return test::read_json(test::shared_dir() + "/models/trained-llama-14m-refs/refs.json");
}

std::vector<int32_t> greedy(Session& s, const std::vector<int32_t>& prompt, int64_t n) {
  s.prefill(prompt);
  GenerationOptions g;
  g.max_tokens = n;  // the reference decodes without stop tokens
  std::vector<int32_t> out;
  s.generate(g, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  return out;
}

TEST(DemoModel, GreedyContinuationsMatchTransformers) {
  auto engine = Engine::load({.model_dir = demo_dir(), .load = {.n_threads = 2}});
  for (const auto& g : refs()["greedy"]) {
    const auto prompt = g["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(engine->tokenizer().encode(g["prompt"].get<std::string>(), false), prompt);
    Session s(engine->model(), 256);
    const auto expected = g["greedy_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(greedy(s, prompt, static_cast<int64_t>(expected.size())), expected) << g["prompt"];
    EXPECT_EQ(engine->tokenizer().decode(expected, false), g["greedy_text"].get<std::string>());
  }
}

TEST(DemoModel, ChatPromptAndReplyMatchTransformers) {
  auto engine = Engine::load({.model_dir = demo_dir(), .load = {.n_threads = 2}});
  const auto chat = refs()["chat"];
  ASSERT_NE(engine->chat_template(), nullptr);
  const std::string text =
      engine->chat_template()->render(nlohmann::ordered_json(chat["messages"]), nullptr, true);
  EXPECT_EQ(text, chat["prompt_text"].get<std::string>());
  const auto ids = engine->tokenizer().encode(text, false);
  EXPECT_EQ(ids, chat["prompt_ids"].get<std::vector<int32_t>>());
  Session s(engine->model(), 256);
  const auto expected = chat["greedy_ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(greedy(s, ids, static_cast<int64_t>(expected.size())), expected);
}

TEST(DemoModel, MultiTurnPrefixReuseGivesSameTokensAsFreshSession) {
  auto engine = Engine::load({.model_dir = demo_dir(), .load = {.n_threads = 2}});
  const auto prompt = refs()["chat"]["prompt_ids"].get<std::vector<int32_t>>();
  Session reused(engine->model(), 256);
  greedy(reused, prompt, 8);
  std::vector<int32_t> longer = reused.tokens();
  longer.insert(longer.end(), prompt.begin(), prompt.end());
  const auto a = greedy(reused, longer, 8);
  Session fresh(engine->model(), 256);
  EXPECT_EQ(a, greedy(fresh, longer, 8));
}

TEST(DemoModel, PerplexityMatchesReferenceProtocol) {
  auto engine = Engine::load({.model_dir = demo_dir(), .load = {.n_threads = 2}});
  const auto ppl_ref = refs()["perplexity"];
  const std::string text = read_text_file(test::shared_dir() + "/data/eval.txt");
  const auto ids = engine->tokenizer().encode(text, false);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), ppl_ref["eval_tokens"].get<int64_t>());
  const PerplexityResult r = perplexity(engine->model(), ids, 256);
  EXPECT_EQ(r.windows, ppl_ref["chunks_all"].get<int64_t>());
  EXPECT_NEAR(r.ppl, ppl_ref["ppl_all"].get<double>(), 0.01);
  std::printf("perplexity %.5f (reference %.5f), %.1f s\n", r.ppl, ppl_ref["ppl_all"].get<double>(),
              r.seconds);
}

TEST(Sampler, SeededSamplingIsReproducibleAndRespectsTopK) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 3;
  p.seed = 7;
  std::vector<float> logits = {0.1f, 5.0f, 4.0f, -1.0f, 3.0f, 2.0f};
  Sampler a(p), b(p);
  for (int i = 0; i < 50; ++i) {
    auto la = logits, lb = logits;
    const int32_t x = a.sample(la.data(), 6, {});
    EXPECT_EQ(x, b.sample(lb.data(), 6, {}));
    EXPECT_TRUE(x == 1 || x == 2 || x == 4) << x;
  }
}

TEST(Sampler, RepetitionPenaltyFollowsTransformers) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  std::vector<float> logits = {4.0f, 3.0f, -1.0f};
  const std::vector<int32_t> history = {0, 2};
  // 4 -> 2 (divided), -1 -> -2 (multiplied): token 1 (3.0) wins.
  EXPECT_EQ(s.sample(logits.data(), 3, history), 1);
  EXPECT_FLOAT_EQ(logits[0], 2.0f);
  EXPECT_FLOAT_EQ(logits[2], -2.0f);
}

TEST(Sampler, MinPAndTopPKeepOnlyTheHead) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.5f;
  p.seed = 3;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> logits = {10.0f, 0.0f, 9.9f, -5.0f};
    const int32_t x = s.sample(logits.data(), 4, {});
    EXPECT_TRUE(x == 0 || x == 2) << x;
  }
  SamplingParams q;
  q.temperature = 1.0f;
  q.top_p = 0.5f;
  Sampler t(q);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> logits = {10.0f, 0.0f, 1.0f};
    EXPECT_EQ(t.sample(logits.data(), 3, {}), 0);
  }
}

}  // namespace
}  // namespace insitu
