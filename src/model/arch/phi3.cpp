// Phi-3 / Phi-3.5: Llama's block with fused qkv_proj ([q; k; v] rows) and fused gate_up_proj
// ([gate; up] rows); longrope scaling for the long-context variants.
#include "model/arch/arch_list.h"

namespace insitu::archs {

const ArchSpec& phi3() {
  static const BlockTraits traits{.fused_qkv = true, .fused_gate_up = true};
  static const ArchSpec spec{"phi3",
                             {"Phi3ForCausalLM"},
                             traits,
                             [](ModelConfig& c) {
                               if (c.layer_is_sliding.empty())
                                 c.layer_is_sliding.assign(c.num_layers,
                                                           c.sliding_window.has_value());
                             },
                             [](const ModelConfig& c) {
                               std::vector<TensorSpec> t;
                               arch_tables::add_embedding_and_head(c, &t);
                               for (int l = 0; l < c.num_layers; ++l) {
                                 arch_tables::add_block_norms(c, l, traits, &t);
                                 arch_tables::add_attention(c, l, traits, false, &t);
                                 arch_tables::add_dense_mlp(c, l, traits, &t);
                               }
                               return t;
                             }};
  return spec;
}

}  // namespace insitu::archs
