#include <array>

#include "core/error.h"
#include "model/arch.h"
#include "model/arch/arch_list.h"

namespace insitu {
namespace {
using Accessor = const ArchSpec& (*)();
constexpr std::array<Accessor, 9> kArchs = {
    archs::llama,       archs::mistral, archs::qwen2,   archs::qwen3,     archs::gemma2,
    archs::gemma3_text, archs::phi3,    archs::mixtral, archs::qwen3_moe,
};
}  // namespace

std::string_view tensor_role_name(TensorRole role) {
  static constexpr std::string_view kNames[] = {
      "token_embedding", "output",      "output_norm",   "attn_norm",   "attn_q",
      "attn_k",          "attn_v",      "attn_qkv",      "attn_o",      "attn_q_bias",
      "attn_k_bias",     "attn_v_bias", "attn_o_bias",   "attn_q_norm", "attn_k_norm",
      "post_attn_norm",  "ffn_norm",    "post_ffn_norm", "ffn_gate",    "ffn_up",
      "ffn_gate_up",     "ffn_down",    "ffn_gate_bias", "ffn_up_bias", "ffn_down_bias",
      "moe_router",      "expert_gate", "expert_up",     "expert_down"};
  return kNames[static_cast<size_t>(role)];
}

const ArchSpec& find_arch(const std::string& model_type) {
  for (Accessor a : kArchs)
    if (a().model_type == model_type) return a();
  std::string list;
  for (const auto& n : supported_archs()) list += (list.empty() ? "" : ", ") + n;
  throw Error(ErrorCode::kUnsupported,
              "unknown architecture model_type '" + model_type + "' (supported: " + list + ")");
}

std::vector<std::string> supported_archs() {
  std::vector<std::string> out;
  for (Accessor a : kArchs) out.push_back(a().model_type);
  return out;
}

}  // namespace insitu
