#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace insitu {

Rope::Rope(const RopeConfig& cfg, int64_t head_dim, int64_t max_position_embeddings)
    : cfg_(cfg), max_pos_(max_position_embeddings) {
  rot_dim_ = static_cast<int64_t>(static_cast<double>(head_dim) * cfg.partial_rotary_factor);
  rot_dim_ -= rot_dim_ % 2;
  if (rot_dim_ <= 0 || rot_dim_ > head_dim)
    throw Error(ErrorCode::kCorruptFile,
                "rotary dimension out of range for head_dim " + std::to_string(head_dim));
  if (cfg.type == "longrope") {
    const size_t half = static_cast<size_t>(rot_dim_ / 2);
    if (cfg.short_factor.size() != half || cfg.long_factor.size() != half)
      throw Error(ErrorCode::kCorruptFile,
                  "longrope short_factor/long_factor must have rotary_dim/2 = " +
                      std::to_string(half) + " entries");
  }
}

// Mirrors transformers' _compute_*_parameters; everything that transformers does in f32 tensors
// is done in float here, scalar Python math in double.
void Rope::inv_freq_for(int64_t seq_len, std::vector<float>* inv_freq, float* scaling) const {
  const int64_t half = rot_dim_ / 2;
  const float dim = static_cast<float>(rot_dim_);
  double base = cfg_.theta;
  *scaling = 1.0f;
  inv_freq->resize(half);
  const std::string& type = cfg_.type;

  if (type == "dynamic") {
    const double max_pos = static_cast<double>(max_pos_);
    const double len = std::max<double>(static_cast<double>(seq_len), max_pos);
    base = base * std::pow(cfg_.factor * len / max_pos - (cfg_.factor - 1.0),
                           static_cast<double>(rot_dim_) / (rot_dim_ - 2));
  }
  auto pos_freq = [&](int64_t i) {
    return std::pow(static_cast<float>(base), static_cast<float>(2 * i) / dim);
  };
  for (int64_t i = 0; i < half; ++i) (*inv_freq)[i] = 1.0f / pos_freq(i);

  if (type == "linear") {
    for (auto& f : *inv_freq) f = f / static_cast<float>(cfg_.factor);
  } else if (type == "llama3") {
    const double old_ctx = static_cast<double>(cfg_.original_max_position_embeddings);
    const double low_wavelen = old_ctx / cfg_.low_freq_factor;
    const double high_wavelen = old_ctx / cfg_.high_freq_factor;
    const float factor = static_cast<float>(cfg_.factor);
    for (auto& f : *inv_freq) {
      const float wavelen = 2.0f * static_cast<float>(std::numbers::pi) / f;
      float adjusted = wavelen > low_wavelen ? f / factor : f;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      if (medium) {
        const float smooth = static_cast<float>((old_ctx / wavelen - cfg_.low_freq_factor) /
                                                (cfg_.high_freq_factor - cfg_.low_freq_factor));
        adjusted = (1.0f - smooth) * adjusted / factor + smooth * adjusted;
      }
      f = adjusted;
    }
  } else if (type == "yarn") {
    double factor = cfg_.factor;
    double orig = static_cast<double>(max_pos_);
    if (cfg_.original_max_position_embeddings > 0) {
      orig = static_cast<double>(cfg_.original_max_position_embeddings);
    }
    auto get_mscale = [](double scale, double m) {
      return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0;
    };
    if (cfg_.attention_factor) {
      *scaling = static_cast<float>(*cfg_.attention_factor);
    } else if (cfg_.mscale && cfg_.mscale_all_dim && *cfg_.mscale_all_dim != 0) {
      *scaling = static_cast<float>(get_mscale(factor, *cfg_.mscale) /
                                    get_mscale(factor, *cfg_.mscale_all_dim));
    } else {
      *scaling = static_cast<float>(get_mscale(factor, 1.0));
    }
    auto correction_dim = [&](double rotations) {
      return (rot_dim_ * std::log(orig / (rotations * 2 * std::numbers::pi))) /
             (2 * std::log(base));
    };
    double low = correction_dim(cfg_.beta_fast), high = correction_dim(cfg_.beta_slow);
    if (cfg_.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(rot_dim_ - 1));
    if (low == high) high += 0.001;
    for (int64_t i = 0; i < half; ++i) {
      const float pf = pos_freq(i);
      const float extrapolation = 1.0f / pf;
      const float interpolation = 1.0f / (static_cast<float>(factor) * pf);
      float ramp =
          (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
      ramp = std::clamp(ramp, 0.0f, 1.0f);
      const float extrapolation_factor = 1.0f - ramp;
      (*inv_freq)[i] =
          interpolation * (1.0f - extrapolation_factor) + extrapolation * extrapolation_factor;
    }
  } else if (type == "longrope") {
    double orig = static_cast<double>(max_pos_);
    double factor = cfg_.factor;
    if (cfg_.original_max_position_embeddings > 0) {
      orig = static_cast<double>(cfg_.original_max_position_embeddings);
      factor = static_cast<double>(max_pos_) / orig;
    }
    if (cfg_.attention_factor) {
      *scaling = static_cast<float>(*cfg_.attention_factor);
    } else {
      *scaling = factor <= 1.0
                     ? 1.0f
                     : static_cast<float>(std::sqrt(1 + std::log(factor) / std::log(orig)));
    }
    const auto& ext = seq_len > static_cast<int64_t>(orig) ? cfg_.long_factor : cfg_.short_factor;
    for (int64_t i = 0; i < half; ++i)
      (*inv_freq)[i] = 1.0f / (static_cast<float>(ext[i]) * pos_freq(i));
  }
}

void Rope::tables(int64_t pos0, int64_t n_pos, int64_t seq_len, std::vector<float>* cos_out,
                  std::vector<float>* sin_out) const {
  std::vector<float> inv_freq;
  float scaling;
  inv_freq_for(seq_len, &inv_freq, &scaling);
  const int64_t half = rot_dim_ / 2;
  cos_out->resize(n_pos * half);
  sin_out->resize(n_pos * half);
  for (int64_t p = 0; p < n_pos; ++p) {
    const float pos = static_cast<float>(pos0 + p);
    for (int64_t i = 0; i < half; ++i) {
      const float angle = pos * inv_freq[i];  // f32 product, as transformers' matmul
      (*cos_out)[p * half + i] = static_cast<float>(std::cos(static_cast<double>(angle))) * scaling;
      (*sin_out)[p * half + i] = static_cast<float>(std::sin(static_cast<double>(angle))) * scaling;
    }
  }
}

void Rope::apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos,
                 const float* sin) const {
  const int64_t half = rot_dim_ / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = v[i], x2 = v[i + half];
      v[i] = x1 * cos[i] - x2 * sin[i];
      v[i + half] = x2 * cos[i] + x1 * sin[i];
    }
  }
}

}  // namespace insitu
