// Architecture descriptions. Each supported Hugging Face model_type has one file in
// model/arch/<model_type>.cpp defining an ArchSpec: how its config is completed, which
// behaviours its decoder block has, and its tensors as a declarative table.
//
// The tensor table is the single source of truth for weights: loading, in-situ quantization,
// UQFF and GGUF export all iterate the same TensorSpec list (for_each over arch.tensors(cfg)).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace insitu {

// What a tensor is for; the forward pass binds weights by role, never by name.
enum class TensorRole : uint8_t {
  kTokenEmbedding,
  kOutput,
  kOutputNorm,
  kAttnNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnQkv,
  kAttnO,
  kAttnQBias,
  kAttnKBias,
  kAttnVBias,
  kAttnOBias,
  kAttnQNorm,
  kAttnKNorm,
  kPostAttnNorm,  // Gemma's norm on the attention output (sandwich norm)
  kFfnNorm,       // pre-MLP norm (Llama's post_attention_layernorm, Gemma's pre_feedforward)
  kPostFfnNorm,
  kFfnGate,
  kFfnUp,
  kFfnGateUp,
  kFfnDown,
  kFfnGateBias,
  kFfnUpBias,
  kFfnDownBias,
  kMoeRouter,
  kExpertGate,
  kExpertUp,
  kExpertDown,
};

std::string_view tensor_role_name(TensorRole role);

struct TensorSpec {
  TensorRole role;
  std::string name;            // Hugging Face checkpoint name
  std::vector<int64_t> shape;  // expected shape, as in the checkpoint
  int layer = -1;              // -1 for model-level tensors
  int expert = -1;             // expert index for MoE expert weights
  bool required = true;
  // Name of the tensor this one falls back to when absent (tied output head -> embedding).
  std::string tied_to;
  // A 2-D linear weight (or embedding): a candidate for quantization.
  bool is_matrix() const { return shape.size() == 2; }
};

// How a decoder block computes; set per architecture, refined from the config.
struct BlockTraits {
  bool sandwich_norms = false;          // Gemma 2/3: norms before and after attention and MLP
  float norm_weight_offset = 0.0f;      // Gemma: RMSNorm multiplies by (1 + w)
  bool scale_embeddings = false;        // Gemma: embeddings times sqrt(hidden_size)
  bool qk_norm = false;                 // Qwen3 / Gemma 3: RMSNorm on q and k per head
  bool fused_qkv = false;               // Phi-3
  bool fused_gate_up = false;           // Phi-3
  bool moe_renormalize_always = false;  // Mixtral: top-k weights always renormalised
};

struct ArchSpec {
  std::string model_type;
  std::vector<std::string> hf_architectures;  // e.g. "LlamaForCausalLM"
  BlockTraits traits;
  // Arch-specific config completion (layer types, defaults); may throw naming config fields.
  std::function<void(ModelConfig&)> finalize_config;
  std::function<std::vector<TensorSpec>(const ModelConfig&)> tensors;
};

// Looks up the architecture for a config's model_type; throws Error(kUnsupported) listing the
// supported ones.
const ArchSpec& find_arch(const std::string& model_type);
std::vector<std::string> supported_archs();

// Building blocks for tensor tables (model/arch/common.cpp).
namespace arch_tables {
void add_embedding_and_head(const ModelConfig& c, std::vector<TensorSpec>* t);
void add_attention(const ModelConfig& c, int layer, const BlockTraits& traits, bool bias,
                   std::vector<TensorSpec>* t);
void add_dense_mlp(const ModelConfig& c, int layer, const BlockTraits& traits,
                   std::vector<TensorSpec>* t);
// prefix e.g. "mlp" or "block_sparse_moe"; names gate/up/down, e.g. gate_proj or w1.
void add_moe(const ModelConfig& c, int layer, const std::string& prefix, const std::string& router,
             const std::string& gate, const std::string& up, const std::string& down,
             std::vector<TensorSpec>* t);
void add_block_norms(const ModelConfig& c, int layer, const BlockTraits& traits,
                     std::vector<TensorSpec>* t);
std::string layer_prefix(int layer);  // "model.layers.<i>."
}  // namespace arch_tables

}  // namespace insitu
