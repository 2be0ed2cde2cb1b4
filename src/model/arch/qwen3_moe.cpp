// Qwen3-MoE: Qwen3 attention; sparse MLP layers (router "gate", experts gate/up/down_proj) with
// softmax-then-top-k routing, renormalised only when norm_topk_prob is set.
#include "model/arch/arch_list.h"

namespace insitu::archs {

void qwen_sliding_layers(ModelConfig& c);  // qwen2.cpp

const ArchSpec& qwen3_moe() {
  static const BlockTraits traits{.qk_norm = true};
  static const ArchSpec spec{
      "qwen3_moe", {"Qwen3MoeForCausalLM"}, traits, qwen_sliding_layers, [](const ModelConfig& c) {
        std::vector<TensorSpec> t;
        arch_tables::add_embedding_and_head(c, &t);
        for (int l = 0; l < c.num_layers; ++l) {
          arch_tables::add_block_norms(c, l, traits, &t);
          arch_tables::add_attention(c, l, traits, c.attention_bias, &t);
          if (c.layer_has_moe(l)) {
            arch_tables::add_moe(c, l, "mlp", "gate", "gate_proj", "up_proj", "down_proj", &t);
          } else {
            arch_tables::add_dense_mlp(c, l, traits, &t);
          }
        }
        return t;
      }};
  return spec;
}

}  // namespace insitu::archs
