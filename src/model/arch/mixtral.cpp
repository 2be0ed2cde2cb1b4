// Mixtral: Mistral attention; every MLP is a sparse MoE (block_sparse_moe: router "gate",
// experts w1 = gate, w3 = up, w2 = down); top-k weights are always renormalised.
#include "model/arch/arch_list.h"

namespace insitu::archs {

const ArchSpec& mixtral() {
  static const BlockTraits traits{.moe_renormalize_always = true};
  static const ArchSpec spec{
      "mixtral",
      {"MixtralForCausalLM"},
      traits,
      [](ModelConfig& c) {
        if (c.layer_is_sliding.empty())
          c.layer_is_sliding.assign(c.num_layers, c.sliding_window.has_value());
        c.decoder_sparse_step = 1;
        c.mlp_only_layers.clear();
        c.moe_intermediate_size = c.intermediate_size;
      },
      [](const ModelConfig& c) {
        std::vector<TensorSpec> t;
        arch_tables::add_embedding_and_head(c, &t);
        for (int l = 0; l < c.num_layers; ++l) {
          arch_tables::add_block_norms(c, l, traits, &t);
          arch_tables::add_attention(c, l, traits, false, &t);
          arch_tables::add_moe(c, l, "block_sparse_moe", "gate", "w1", "w3", "w2", &t);
        }
        return t;
      }};
  return spec;
}

}  // namespace insitu::archs
