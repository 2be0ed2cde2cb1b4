// Gemma 2: sandwich norms with (1 + w) RMSNorm weights, embeddings scaled by sqrt(hidden),
// GeLU-tanh MLP, attention and final-logit soft-capping, alternating sliding/full layers
// (layer 0 sliding), attention scale query_pre_attn_scalar^-1/2. Output head tied.
#include "model/arch/arch_list.h"

namespace insitu::archs {

extern const BlockTraits kGemmaTraits{
    .sandwich_norms = true, .norm_weight_offset = 1.0f, .scale_embeddings = true};

std::vector<TensorSpec> gemma_tensors(const ModelConfig& c, const BlockTraits& traits) {
  std::vector<TensorSpec> t;
  arch_tables::add_embedding_and_head(c, &t);
  for (int l = 0; l < c.num_layers; ++l) {
    arch_tables::add_block_norms(c, l, traits, &t);
    arch_tables::add_attention(c, l, traits, c.attention_bias, &t);
    arch_tables::add_dense_mlp(c, l, traits, &t);
  }
  return t;
}

const ArchSpec& gemma2() {
  static const ArchSpec spec{"gemma2",
                             {"Gemma2ForCausalLM"},
                             kGemmaTraits,
                             [](ModelConfig& c) {
                               c.tie_word_embeddings = c.raw.value("tie_word_embeddings", true);
                               if (c.layer_is_sliding.empty())
                                 for (int64_t l = 0; l < c.num_layers; ++l)
                                   c.layer_is_sliding.push_back(l % 2 == 0);
                             },
                             [](const ModelConfig& c) { return gemma_tensors(c, kGemmaTraits); }};
  return spec;
}

}  // namespace insitu::archs
