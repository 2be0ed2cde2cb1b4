// Mistral: Llama's block; every layer uses the sliding window when the config sets one.
#include "model/arch/arch_list.h"

namespace insitu::archs {

const ArchSpec& mistral() {
  static const ArchSpec spec{"mistral",
                             {"MistralForCausalLM"},
                             BlockTraits{},
                             [](ModelConfig& c) {
                               if (c.layer_is_sliding.empty())
                                 c.layer_is_sliding.assign(c.num_layers,
                                                           c.sliding_window.has_value());
                             },
                             [](const ModelConfig& c) {
                               std::vector<TensorSpec> t;
                               arch_tables::add_embedding_and_head(c, &t);
                               for (int l = 0; l < c.num_layers; ++l) {
                                 arch_tables::add_block_norms(c, l, {}, &t);
                                 arch_tables::add_attention(c, l, {}, false, &t);
                                 arch_tables::add_dense_mlp(c, l, {}, &t);
                               }
                               return t;
                             }};
  return spec;
}

}  // namespace insitu::archs
