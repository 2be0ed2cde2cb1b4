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
#include "model/forward_workspace.h"
#include "model/isq/quant_plan.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "model/weights.h"

namespace insitu {

struct LoadOptions {
  int n_threads = 0;  // 0: all hardware threads
  // In-situ quantization: when active, each selected weight is read from the mmap, quantized
  // on the worker pool and its source pages released, so the full-precision model is never
  // resident.
  QuantPolicy quant;
  bool progress = false;  // progress bar on stderr
};

// What loading did, for the load summary users see.
struct LoadSummary {
  struct TypeCount {
    std::string type;
    int64_t tensors = 0;
    size_t bytes = 0;
  };
  std::vector<TypeCount> types;        // storage type of every matrix, in first-seen order
  std::vector<std::string> fallbacks;  // "name: requested q4k -> q4_1 (row length ...)"
  size_t source_bytes = 0;             // checkpoint bytes of all bound tensors
  size_t loaded_bytes = 0;             // bytes the weights take after loading
  double seconds = 0;
  size_t peak_resident_bytes = 0;  // VmHWM right after loading
  std::string to_string() const;
  void add(const WeightMatrix& w);  // counts one bound matrix
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
  const LoadSummary& load_summary() const { return summary_; }
  // The storage type chosen for each tensor of the architecture's table (after policy).
  const std::vector<TensorPlan>& quant_plan() const { return plan_; }

  KvCache make_cache(int64_t capacity) const;

  // Replaces every quantized matrix by its f32 dequantization (the reference a quantized model
  // is checked against: kernels must add no error of their own). Memory grows accordingly.
  void dequantize_weights();

  // Runs `tokens` at positions [n_past, n_past + tokens.size()) and appends their keys/values
  // to `cache`. One call at a time per model (the pass reuses the model's buffers and pool). Writes
  // logits [tokens.size(), vocab] when all_logits, else only the last position's [vocab]. Throws if
  // the cache is too small or a token id is out of range.
  void forward(std::span<const int32_t> tokens, int64_t n_past, KvCache& cache, float* logits,
               bool all_logits);

 private:
  Model() = default;
  void bind_weights(const LoadOptions& options);

  std::string dir_;
  ModelConfig config_;
  const ArchSpec* arch_ = nullptr;
  Checkpoint checkpoint_;
  ModelWeights weights_;
  Rope rope_full_, rope_sliding_;
  std::unique_ptr<ThreadPool> pool_;
  ForwardWorkspace workspace_;  // forward's buffers (forward_workspace.h)
  std::vector<TensorSpec> specs_;
  std::vector<TensorPlan> plan_;
  LoadSummary summary_;
};

}  // namespace insitu
