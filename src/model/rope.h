// Rotary position embeddings for every rope_type transformers knows (default, linear, dynamic,
// llama3, yarn, longrope), computed in f32 exactly as transformers' modeling_rope_utils does,
// and applied in the rotate-half (non-interleaved) layout of Hugging Face checkpoints.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace insitu {

class Rope {
 public:
  Rope() = default;
  // max_position_embeddings is the model's (config) context, used by dynamic/yarn/longrope.
  Rope(const RopeConfig& cfg, int64_t head_dim, int64_t max_position_embeddings);

  int64_t rotary_dim() const { return rot_dim_; }

  // Fills cos/sin tables [n_pos][rotary_dim/2] for positions pos0..pos0+n_pos-1, given the total
  // sequence length the model will have seen after this step (dynamic and longrope depend on it).
  void tables(int64_t pos0, int64_t n_pos, int64_t seq_len, std::vector<float>* cos_out,
              std::vector<float>* sin_out) const;

  // Rotates n_heads vectors of head_dim (contiguous) in place for one position, whose tables
  // rows are cos/sin (rotary_dim/2 values each).
  void apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) const;

 private:
  void inv_freq_for(int64_t seq_len, std::vector<float>* inv_freq, float* scaling) const;

  RopeConfig cfg_;
  int64_t rot_dim_ = 0;
  int64_t max_pos_ = 0;
};

}  // namespace insitu
