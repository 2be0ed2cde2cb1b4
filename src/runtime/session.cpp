#include "runtime/session.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace insitu {
namespace {
double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Session::Session(Model& model, int64_t context)
    : model_(model), cache_(model.make_cache(context)), logits_(model.config().vocab_size) {}

void Session::feed(std::span<const int32_t> tokens) {
  for (size_t i = 0; i < tokens.size(); i += kPrefillChunk) {
    const auto chunk = tokens.subspan(i, std::min<size_t>(kPrefillChunk, tokens.size() - i));
    model_.forward(chunk, static_cast<int64_t>(tokens_.size()), cache_, logits_.data(), false);
    tokens_.insert(tokens_.end(), chunk.begin(), chunk.end());
  }
}

void Session::prefill(std::span<const int32_t> tokens, GenerationStats* stats) {
  if (tokens.empty()) throw Error(ErrorCode::kInvalidArgument, "empty prompt");
  if (static_cast<int64_t>(tokens.size()) > cache_.capacity())
    throw Error(ErrorCode::kInvalidArgument, "prompt of " + std::to_string(tokens.size()) +
                                                 " tokens does not fit the context of " +
                                                 std::to_string(cache_.capacity()) +
                                                 " (raise --ctx)");
  size_t common = 0;
  while (common < tokens_.size() && common < tokens.size() && tokens_[common] == tokens[common])
    ++common;
  // The last prompt token must be recomputed to have its logits.
  if (common == tokens.size()) --common;
  tokens_.resize(common);
  const double t0 = now_seconds();
  feed(tokens.subspan(common));
  if (stats) {
    stats->prompt_tokens = static_cast<int64_t>(tokens.size() - common);
    stats->prompt_seconds = now_seconds() - t0;
  }
}

GenerationStats Session::generate(const GenerationOptions& options,
                                  const std::function<bool(int32_t)>& on_token) {
  if (tokens_.empty()) throw Error(ErrorCode::kInvalidArgument, "generate() before prefill()");
  GenerationStats stats;
  Sampler sampler(options.sampling);
  const int64_t V = model_.config().vocab_size;
  const double t0 = now_seconds();
  std::vector<float> scratch(V);
  for (;;) {
    if (stats.generated_tokens >= options.max_tokens) {
      stats.stop = StopReason::kMaxTokens;
      break;
    }
    scratch = logits_;
    const int32_t next = sampler.sample(scratch.data(), V, tokens_);
    ++stats.generated_tokens;
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) !=
        options.stop_ids.end()) {
      stats.stop = StopReason::kStopToken;
      break;
    }
    if (!on_token(next)) {
      // Not fed: tokens() holds only computed tokens; the next prefill re-adds it if needed.
      stats.stop = StopReason::kCallback;
      break;
    }
    if (static_cast<int64_t>(tokens_.size()) >= cache_.capacity()) {
      stats.stop = StopReason::kContextFull;
      break;
    }
    const int32_t one[1] = {next};
    feed(one);
  }
  stats.generation_seconds = now_seconds() - t0;
  return stats;
}

}  // namespace insitu
