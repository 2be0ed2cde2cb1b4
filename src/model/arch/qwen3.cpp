// Qwen3: Llama's block with per-head RMSNorm on q and k before rotary embedding.
#include "model/arch/arch_list.h"

namespace insitu::archs {

void qwen_sliding_layers(ModelConfig& c);  // qwen2.cpp

const ArchSpec& qwen3() {
  static const BlockTraits traits{.qk_norm = true};
  static const ArchSpec spec{
      "qwen3", {"Qwen3ForCausalLM"}, traits, qwen_sliding_layers, [](const ModelConfig& c) {
        std::vector<TensorSpec> t;
        arch_tables::add_embedding_and_head(c, &t);
        for (int l = 0; l < c.num_layers; ++l) {
          arch_tables::add_block_norms(c, l, traits, &t);
          arch_tables::add_attention(c, l, traits, c.attention_bias, &t);
          arch_tables::add_dense_mlp(c, l, traits, &t);
        }
        return t;
      }};
  return spec;
}

}  // namespace insitu::archs
