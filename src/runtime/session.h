// A conversation with a model: its KV cache, the tokens it holds, and generation.
// prefill() reuses the longest common prefix with what is already cached, so multi-turn chat
// only computes the new turn.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/model.h"
#include "runtime/sampler.h"

namespace insitu {

struct GenerationOptions {
  int64_t max_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // generation ends after emitting one of these (not streamed)
};

enum class StopReason { kStopToken, kMaxTokens, kContextFull, kCallback };

struct GenerationStats {
  int64_t prompt_tokens = 0;  // tokens actually computed in prefill (after prefix reuse)
  double prompt_seconds = 0;
  int64_t generated_tokens = 0;
  double generation_seconds = 0;
  StopReason stop = StopReason::kMaxTokens;
};

class Session {
 public:
  Session(Model& model, int64_t context);

  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t context() const { return cache_.capacity(); }

  // Makes the session hold exactly `tokens` (sharing the cached prefix) and leaves the logits
  // of the last token ready for sampling. Throws if the prompt does not fit the context.
  void prefill(std::span<const int32_t> tokens, GenerationStats* stats = nullptr);

  // Samples up to max_tokens; on_token(id) is called for each token that is not a stop token
  // and returns false to stop early. The generated tokens are appended to tokens().
  GenerationStats generate(const GenerationOptions& options,
                           const std::function<bool(int32_t)>& on_token);

  const std::vector<float>& last_logits() const { return logits_; }

 private:
  void feed(std::span<const int32_t> tokens);

  Model& model_;
  KvCache cache_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
  static constexpr int64_t kPrefillChunk = 512;
};

}  // namespace insitu
