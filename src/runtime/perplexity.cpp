#include "runtime/perplexity.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace insitu {

PerplexityResult perplexity(Model& model, std::span<const int32_t> tokens, int64_t ctx,
                            const std::function<void(int64_t, int64_t, double)>& progress) {
  if (ctx < 2) throw Error(ErrorCode::kInvalidArgument, "--ctx must be at least 2");
  const int64_t n_windows = static_cast<int64_t>(tokens.size()) / ctx;
  if (n_windows == 0)
    throw Error(ErrorCode::kInvalidArgument, "text has " + std::to_string(tokens.size()) +
                                                 " tokens, fewer than one window of " +
                                                 std::to_string(ctx));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t V = model.config().vocab_size;
  std::vector<float> logits(ctx * V);
  KvCache cache = model.make_cache(ctx);
  double nll = 0;
  int64_t scored = 0;
  for (int64_t w = 0; w < n_windows; ++w) {
    const auto window = tokens.subspan(w * ctx, ctx);
    model.forward(window, 0, cache, logits.data(), /*all_logits=*/true);
    for (int64_t i = 0; i + 1 < ctx; ++i) {
      const float* l = logits.data() + i * V;
      double mx = l[0];
      for (int64_t j = 1; j < V; ++j) mx = std::max<double>(mx, l[j]);
      double sum = 0;
      for (int64_t j = 0; j < V; ++j) sum += std::exp(l[j] - mx);
      nll += (mx + std::log(sum)) - l[window[i + 1]];
      ++scored;
    }
    if (progress) progress(w, n_windows, std::exp(nll / scored));
  }
  PerplexityResult r;
  r.windows = n_windows;
  r.scored_tokens = scored;
  r.mean_nll = nll / scored;
  r.ppl = std::exp(r.mean_nll);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace insitu
