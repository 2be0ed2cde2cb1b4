// Llama (1, 2, 3.x): pre-norm decoder, SwiGLU MLP, optional attention/MLP biases.
#include "model/arch/arch_list.h"

namespace insitu::archs {

const ArchSpec& llama() {
  static const ArchSpec spec{"llama",
                             {"LlamaForCausalLM"},
                             BlockTraits{},
                             [](ModelConfig&) {},
                             [](const ModelConfig& c) {
                               std::vector<TensorSpec> t;
                               arch_tables::add_embedding_and_head(c, &t);
                               for (int l = 0; l < c.num_layers; ++l) {
                                 arch_tables::add_block_norms(c, l, {}, &t);
                                 arch_tables::add_attention(c, l, {}, c.attention_bias, &t);
                                 arch_tables::add_dense_mlp(c, l, {}, &t);
                               }
                               return t;
                             }};
  return spec;
}

}  // namespace insitu::archs
