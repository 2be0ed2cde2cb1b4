// Tensor-table building blocks shared by the Llama-family architectures (HF naming).
#include "model/arch.h"

namespace insitu::arch_tables {

std::string layer_prefix(int layer) {
  return "model.layers." + std::to_string(layer) + ".";
}

void add_embedding_and_head(const ModelConfig& c, std::vector<TensorSpec>* t) {
  t->push_back(
      {TensorRole::kTokenEmbedding, "model.embed_tokens.weight", {c.vocab_size, c.hidden_size}});
  t->push_back({TensorRole::kOutputNorm, "model.norm.weight", {c.hidden_size}});
  TensorSpec head{TensorRole::kOutput, "lm_head.weight", {c.vocab_size, c.hidden_size}};
  if (c.tie_word_embeddings) {
    head.required = false;
    head.tied_to = "model.embed_tokens.weight";
  }
  t->push_back(head);
}

void add_block_norms(const ModelConfig& c, int layer, const BlockTraits& traits,
                     std::vector<TensorSpec>* t) {
  const std::string p = layer_prefix(layer);
  t->push_back({TensorRole::kAttnNorm, p + "input_layernorm.weight", {c.hidden_size}, layer});
  if (traits.sandwich_norms) {
    t->push_back(
        {TensorRole::kPostAttnNorm, p + "post_attention_layernorm.weight", {c.hidden_size}, layer});
    t->push_back(
        {TensorRole::kFfnNorm, p + "pre_feedforward_layernorm.weight", {c.hidden_size}, layer});
    t->push_back({TensorRole::kPostFfnNorm,
                  p + "post_feedforward_layernorm.weight",
                  {c.hidden_size},
                  layer});
  } else {
    t->push_back(
        {TensorRole::kFfnNorm, p + "post_attention_layernorm.weight", {c.hidden_size}, layer});
  }
}

void add_attention(const ModelConfig& c, int layer, const BlockTraits& traits, bool bias,
                   std::vector<TensorSpec>* t) {
  const std::string p = layer_prefix(layer) + "self_attn.";
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;
  if (traits.fused_qkv) {
    t->push_back(
        {TensorRole::kAttnQkv, p + "qkv_proj.weight", {q_dim + 2 * kv_dim, c.hidden_size}, layer});
  } else {
    t->push_back({TensorRole::kAttnQ, p + "q_proj.weight", {q_dim, c.hidden_size}, layer});
    t->push_back({TensorRole::kAttnK, p + "k_proj.weight", {kv_dim, c.hidden_size}, layer});
    t->push_back({TensorRole::kAttnV, p + "v_proj.weight", {kv_dim, c.hidden_size}, layer});
    if (bias) {
      t->push_back({TensorRole::kAttnQBias, p + "q_proj.bias", {q_dim}, layer});
      t->push_back({TensorRole::kAttnKBias, p + "k_proj.bias", {kv_dim}, layer});
      t->push_back({TensorRole::kAttnVBias, p + "v_proj.bias", {kv_dim}, layer});
    }
  }
  t->push_back({TensorRole::kAttnO, p + "o_proj.weight", {c.hidden_size, q_dim}, layer});
  if (bias && c.attention_bias && !traits.fused_qkv) {
    // Llama-style attention_bias also biases o_proj; Qwen2's q/k/v-only bias passes bias=true
    // with attention_bias=false.
    t->push_back({TensorRole::kAttnOBias, p + "o_proj.bias", {c.hidden_size}, layer});
  }
  if (traits.qk_norm) {
    t->push_back({TensorRole::kAttnQNorm, p + "q_norm.weight", {c.head_dim}, layer});
    t->push_back({TensorRole::kAttnKNorm, p + "k_norm.weight", {c.head_dim}, layer});
  }
}

void add_dense_mlp(const ModelConfig& c, int layer, const BlockTraits& traits,
                   std::vector<TensorSpec>* t) {
  const std::string p = layer_prefix(layer) + "mlp.";
  const int64_t h = c.hidden_size, i = c.intermediate_size;
  if (traits.fused_gate_up) {
    t->push_back({TensorRole::kFfnGateUp, p + "gate_up_proj.weight", {2 * i, h}, layer});
  } else {
    t->push_back({TensorRole::kFfnGate, p + "gate_proj.weight", {i, h}, layer});
    t->push_back({TensorRole::kFfnUp, p + "up_proj.weight", {i, h}, layer});
  }
  t->push_back({TensorRole::kFfnDown, p + "down_proj.weight", {h, i}, layer});
  if (c.mlp_bias && !traits.fused_gate_up) {
    t->push_back({TensorRole::kFfnGateBias, p + "gate_proj.bias", {i}, layer});
    t->push_back({TensorRole::kFfnUpBias, p + "up_proj.bias", {i}, layer});
    t->push_back({TensorRole::kFfnDownBias, p + "down_proj.bias", {h}, layer});
  }
}

void add_moe(const ModelConfig& c, int layer, const std::string& prefix, const std::string& router,
             const std::string& gate, const std::string& up, const std::string& down,
             std::vector<TensorSpec>* t) {
  const std::string p = layer_prefix(layer) + prefix + ".";
  const int64_t h = c.hidden_size, i = c.moe_intermediate_size;
  t->push_back({TensorRole::kMoeRouter, p + router + ".weight", {c.num_experts, h}, layer});
  for (int e = 0; e < c.num_experts; ++e) {
    const std::string ep = p + "experts." + std::to_string(e) + ".";
    t->push_back({TensorRole::kExpertGate, ep + gate + ".weight", {i, h}, layer, e});
    t->push_back({TensorRole::kExpertUp, ep + up + ".weight", {i, h}, layer, e});
    t->push_back({TensorRole::kExpertDown, ep + down + ".weight", {h, i}, layer, e});
  }
}

}  // namespace insitu::arch_tables
