// Qwen2 / Qwen2.5: Llama's block with biases on q, k and v (not o). Sliding window only when
// use_sliding_window is set, and then only from max_window_layers on.
#include "model/arch/arch_list.h"

namespace insitu::archs {

void qwen_sliding_layers(ModelConfig& c) {
  if (!c.layer_is_sliding.empty()) return;
  const bool use = c.raw.value("use_sliding_window", false) && c.sliding_window.has_value();
  const int64_t from = c.raw.contains("max_window_layers") && c.raw["max_window_layers"].is_number()
                           ? c.raw["max_window_layers"].get<int64_t>()
                           : c.num_layers;
  for (int64_t l = 0; l < c.num_layers; ++l) c.layer_is_sliding.push_back(use && l >= from);
}

const ArchSpec& qwen2() {
  static const ArchSpec spec{
      "qwen2", {"Qwen2ForCausalLM"}, BlockTraits{}, qwen_sliding_layers, [](const ModelConfig& c) {
        std::vector<TensorSpec> t;
        arch_tables::add_embedding_and_head(c, &t);
        for (int l = 0; l < c.num_layers; ++l) {
          arch_tables::add_block_norms(c, l, {}, &t);
          arch_tables::add_attention(c, l, {}, /*bias=*/true, &t);
          arch_tables::add_dense_mlp(c, l, {}, &t);
        }
        return t;
      }};
  return spec;
}

}  // namespace insitu::archs
