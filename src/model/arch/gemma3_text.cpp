// Gemma 3 (text): Gemma 2's block without attention soft-capping, plus q/k RMSNorm; sliding
// layers use their own rope base (rope_local_base_freq / rope_parameters.sliding_attention);
// every sliding_window_pattern-th layer is full attention.
#include "model/arch/arch_list.h"

namespace insitu::archs {

extern const BlockTraits kGemmaTraits;
std::vector<TensorSpec> gemma_tensors(const ModelConfig& c, const BlockTraits& traits);

const ArchSpec& gemma3_text() {
  static const BlockTraits traits = [] {
    BlockTraits t = kGemmaTraits;
    t.qk_norm = true;
    return t;
  }();
  static const ArchSpec spec{
      "gemma3_text",
      {"Gemma3ForCausalLM"},
      traits,
      [](ModelConfig& c) {
        c.tie_word_embeddings = c.raw.value("tie_word_embeddings", true);
        if (c.layer_is_sliding.empty()) {
          const int64_t pattern = c.raw.value("sliding_window_pattern", int64_t{6});
          for (int64_t l = 0; l < c.num_layers; ++l)
            c.layer_is_sliding.push_back(pattern <= 0 || (l + 1) % pattern != 0);
        }
      },
      [](const ModelConfig& c) { return gemma_tensors(c, traits); }};
  return spec;
}

}  // namespace insitu::archs
