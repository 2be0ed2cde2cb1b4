// Model hyper-parameters read from a Hugging Face config.json, in both the transformers-4 form
// (rope_theta, rope_scaling, torch_dtype) and the transformers-5 form (rope_parameters, possibly
// per layer type, dtype). Architecture-specific defaults are applied by the ArchSpec.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace insitu {

// One rotary-embedding configuration (a model may have one per layer type).
struct RopeConfig {
  std::string type = "default";  // default linear dynamic llama3 yarn longrope
  double theta = 10000.0;
  double factor = 1.0;
  double partial_rotary_factor = 1.0;
  // llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
  // yarn
  double beta_fast = 32.0, beta_slow = 1.0;
  std::optional<double> attention_factor;
  std::optional<double> mscale, mscale_all_dim;
  bool truncate = true;
  // longrope
  std::vector<double> short_factor, long_factor;
};

enum class Activation { kSilu, kGeluTanh };

struct ModelConfig {
  std::string model_type;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  Activation activation = Activation::kSilu;
  std::string dtype;  // "bfloat16", "float16", "float32" or ""

  // Attention variants.
  std::optional<int64_t> sliding_window;
  std::vector<bool> layer_is_sliding;  // size num_layers
  std::optional<double> attn_logit_softcapping;
  std::optional<double> final_logit_softcapping;
  std::optional<double> query_pre_attn_scalar;
  RopeConfig rope_full;     // full-attention layers (and all layers when only one is given)
  RopeConfig rope_sliding;  // sliding-window layers

  // Mixture of experts.
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = true;
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;

  std::vector<int64_t> bos_token_ids;
  std::vector<int64_t> eos_token_ids;

  nlohmann::json raw;  // the whole config.json, for arch-specific extras

  bool layer_has_moe(int64_t layer) const;
  float attention_scale() const;  // multiplier applied to q.k
};

// Reads the generic fields; throws Error(kNotFound / kCorruptFile) naming config.json and the
// missing or ill-typed field.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& path_for_messages);
ModelConfig load_model_config(const std::string& model_dir);

}  // namespace insitu
