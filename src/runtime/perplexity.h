// Perplexity over a token stream with the protocol of the reference (refs.json): consecutive
// non-overlapping windows of `ctx` tokens (a trailing partial window is dropped); in each
// window positions 1..ctx-1 are scored given the window prefix; PPL = exp(mean NLL).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "model/model.h"

namespace insitu {

struct PerplexityResult {
  double ppl = 0;
  double mean_nll = 0;
  int64_t windows = 0;
  int64_t scored_tokens = 0;
  double seconds = 0;
};

// progress(window_index, windows_total, running_ppl) is called after each window.
PerplexityResult perplexity(Model& model, std::span<const int32_t> tokens, int64_t ctx,
                            const std::function<void(int64_t, int64_t, double)>& progress = {});

}  // namespace insitu
