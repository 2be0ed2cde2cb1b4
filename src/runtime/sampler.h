// Token sampling: greedy, temperature, top-k, top-p, min-p, repetition / presence / frequency
// penalties, seeded. Order follows transformers' logits processors: penalties on the raw
// logits, then temperature, then top-k, top-p and min-p on the tempered distribution.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace insitu {

struct SamplingParams {
  float temperature = 0.0f;         // 0: greedy (argmax)
  int top_k = 0;                    // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // transformers' multiplicative penalty; 1: off
  float presence_penalty = 0.0f;    // OpenAI-style additive penalties; 0: off
  float frequency_penalty = 0.0f;
  int64_t penalty_last_n = 0;  // 0: the whole history
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // Picks the next token from logits[vocab] (modified in place) given the tokens so far.
  int32_t sample(float* logits, int64_t vocab, std::span<const int32_t> history);

 private:
  void apply_penalties(float* logits, int64_t vocab, std::span<const int32_t> history);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<int32_t> candidates_;
  std::vector<float> probs_;
};

// Index of the largest value; the first one on ties (as torch.argmax).
int32_t argmax(const float* logits, int64_t n);

}  // namespace insitu
