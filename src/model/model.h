// A loaded decoder-only model: config, architecture, weights, and the forward pass.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "io/safetensors/safetensors.h"
#include "model/arch.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "model/weights.h"

namespace insitu {

struct LoadOptions {
  int n_threads = 0;  // 0: all hardware threads
};

class Model {
 public:
  // Loads config.json and the safetensors checkpoint of a Hugging Face model directory.
  // Throws Error naming the file/field/tensor on any problem.
  static std::unique_ptr<Model> load(const std::string& dir, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ArchSpec& arch() const { return *arch_; }
  const ModelWeights& weights() const { return weights_; }
  ThreadPool& pool() { return *pool_; }

  KvCache make_cache(int64_t capacity) const;

  // Runs `tokens` at positions [n_past, n_past + tokens.size()) and appends their keys/values
  // to `cache`. Writes logits [tokens.size(), vocab] when all_logits, else only the last
  // position's [vocab]. Throws if the cache is too small or a token id is out of range.
  void forward(std::span<const int32_t> tokens, int64_t n_past, KvCache& cache, float* logits,
               bool all_logits);

 private:
  Model() = default;
  void bind_weights();

  std::string dir_;
  ModelConfig config_;
  const ArchSpec* arch_ = nullptr;
  Checkpoint checkpoint_;
  ModelWeights weights_;
  Rope rope_full_, rope_sliding_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace insitu
