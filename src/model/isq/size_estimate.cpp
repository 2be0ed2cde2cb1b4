#include "model/isq/size_estimate.h"

#include "core/error.h"
#include "core/memory_stats.h"

namespace insitu {

SizeEstimate estimate_size(const ModelConfig& c, const ArchSpec& arch, const QuantPolicy& policy,
                           QuantType source, int64_t context) {
  const std::vector<TensorSpec> specs = arch.tensors(c);
  const std::vector<TensorPlan> plan = plan_quantization(specs, policy);
  SizeEstimate e;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& s = specs[i];
    if (!s.required && !s.tied_to.empty()) continue;  // tied head shares the embedding
    if (s.is_matrix()) {
      const QuantType t = plan[i].quantize ? plan[i].type : source;
      e.weight_bytes += quant_row_bytes(t, s.shape[1]) * s.shape[0];
    } else {
      int64_t n = 1;
      for (int64_t d : s.shape) n *= d;
      e.weight_bytes += n * sizeof(float);
    }
  }
  e.kv_cache_bytes = 2ull * c.num_layers * context * c.num_kv_heads * c.head_dim * sizeof(float);
  return e;
}

size_t default_memory_budget() {
  const size_t avail = available_system_bytes();
  const size_t reserve = 256ull << 20;
  const size_t usable = avail / 100 * 85;
  return usable > reserve ? usable - reserve : 0;
}

AutoChoice choose_auto_quant(const ModelConfig& c, const ArchSpec& arch, QuantType source,
                             int64_t context, size_t budget) {
  const std::optional<QuantType> candidates[] = {std::nullopt,    QuantType::kQ8_0, QuantType::kQ6K,
                                                 QuantType::kQ5K, QuantType::kQ4K,  QuantType::kQ3K,
                                                 QuantType::kQ2K};
  AutoChoice choice;
  choice.budget = budget;
  for (const auto& cand : candidates) {
    QuantPolicy p;
    p.default_type = cand;
    const SizeEstimate e = estimate_size(c, arch, p, source, context);
    if (e.total() <= budget) {
      choice.type = cand;
      choice.estimate = e;
      const std::string name = cand ? std::string(quant_info(*cand).name)
                                    : std::string(quant_info(source).name) + " (full precision)";
      choice.explanation = "--quant auto: " + name + " needs " + std::to_string(e.total() >> 20) +
                           " MiB (weights " + std::to_string(e.weight_bytes >> 20) +
                           " + KV cache " + std::to_string(e.kv_cache_bytes >> 20) + ") of a " +
                           std::to_string(budget >> 20) + " MiB budget";
      return choice;
    }
  }
  QuantPolicy p;
  p.default_type = QuantType::kQ2K;
  const SizeEstimate e = estimate_size(c, arch, p, source, context);
  throw Error(ErrorCode::kOutOfMemory,
              "--quant auto: even q2k needs " + std::to_string(e.total() >> 20) +
                  " MiB, more than the " + std::to_string(budget >> 20) +
                  " MiB available; reduce --ctx or use a machine with more memory");
}

}  // namespace insitu
