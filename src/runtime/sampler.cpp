#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/error.h"

namespace insitu {

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (params.temperature < 0) throw Error(ErrorCode::kInvalidArgument, "temperature must be >= 0");
  if (params.top_p <= 0 || params.top_p > 1)
    throw Error(ErrorCode::kInvalidArgument, "top_p must be in (0, 1]");
  if (params.min_p < 0 || params.min_p > 1)
    throw Error(ErrorCode::kInvalidArgument, "min_p must be in [0, 1]");
  if (params.top_k < 0) throw Error(ErrorCode::kInvalidArgument, "top_k must be >= 0");
  if (params.repetition_penalty <= 0)
    throw Error(ErrorCode::kInvalidArgument, "repetition_penalty must be > 0");
}

void Sampler::apply_penalties(float* logits, int64_t vocab, std::span<const int32_t> history) {
  if (params_.penalty_last_n > 0 && static_cast<int64_t>(history.size()) > params_.penalty_last_n)
    history = history.subspan(history.size() - params_.penalty_last_n);
  std::unordered_map<int32_t, int> counts;
  for (int32_t t : history)
    if (t >= 0 && t < vocab) counts[t]++;
  for (const auto& [t, n] : counts) {
    float& l = logits[t];
    if (params_.repetition_penalty != 1.0f)
      l = l < 0 ? l * params_.repetition_penalty : l / params_.repetition_penalty;
    l -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(n);
  }
}

int32_t Sampler::sample(float* logits, int64_t vocab, std::span<const int32_t> history) {
  if (params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
      params_.frequency_penalty != 0.0f)
    apply_penalties(logits, vocab, history);
  if (params_.temperature == 0.0f) return argmax(logits, vocab);

  // Candidates sorted by logit, descending, truncated by top-k.
  candidates_.resize(vocab);
  std::iota(candidates_.begin(), candidates_.end(), 0);
  int64_t n = vocab;
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (params_.top_k > 0 && params_.top_k < vocab) {
    n = params_.top_k;
    std::partial_sort(candidates_.begin(), candidates_.begin() + n, candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  probs_.resize(n);
  const float inv_t = 1.0f / params_.temperature;
  const float mx = logits[candidates_[0]] * inv_t;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    probs_[i] = std::exp(logits[candidates_[i]] * inv_t - mx);
    sum += probs_[i];
  }
  for (int64_t i = 0; i < n; ++i) probs_[i] = static_cast<float>(probs_[i] / sum);
  if (params_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p (at least one)
    double cum = 0;
    int64_t keep = n;
    for (int64_t i = 0; i < n; ++i) {
      cum += probs_[i];
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  if (params_.min_p > 0.0f) {
    const float threshold = params_.min_p * probs_[0];
    int64_t keep = 1;
    while (keep < n && probs_[keep] >= threshold) ++keep;
    n = keep;
  }
  std::discrete_distribution<int64_t> dist(probs_.begin(), probs_.begin() + n);
  return candidates_[dist(rng_)];
}

}  // namespace insitu
