// Size estimates from the config alone: exact bytes per tensor for a quantization policy (the
// same tensor table and policy engine loading uses, so estimates equal what loading allocates)
// plus the KV cache for a context length. The base of `--quant auto` and of `tune`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/arch.h"
#include "model/config.h"
#include "model/isq/quant_plan.h"

namespace insitu {

struct SizeEstimate {
  size_t weight_bytes = 0;    // all tensors as they will be stored
  size_t kv_cache_bytes = 0;  // f32 K and V for `context` tokens
  size_t total() const { return weight_bytes + kv_cache_bytes; }
};

// `source` is the checkpoint's dense type (bf16 for most models); tensors the policy leaves
// alone are counted at that size. Norms and biases count as f32 (how they are held).
SizeEstimate estimate_size(const ModelConfig& config, const ArchSpec& arch,
                           const QuantPolicy& policy, QuantType source, int64_t context);

struct AutoChoice {
  std::optional<QuantType> type;  // nullopt: full precision fits
  SizeEstimate estimate;
  size_t budget = 0;
  std::string explanation;  // one line for the user
};

// Picks the highest-quality choice that fits `budget_bytes`: full precision, then q8_0, q6k,
// q5k, q4k, q3k, q2k. Throws Error(kOutOfMemory) when even q2k does not fit.
AutoChoice choose_auto_quant(const ModelConfig& config, const ArchSpec& arch, QuantType source,
                             int64_t context, size_t budget_bytes);

// The budget --quant auto uses: 85% of MemAvailable, minus 256 MiB for activations and buffers.
size_t default_memory_budget();

}  // namespace insitu
