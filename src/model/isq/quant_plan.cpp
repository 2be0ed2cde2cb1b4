#include "model/isq/quant_plan.h"

#include <algorithm>

#include "core/error.h"
#include "quant/policy/quant_value.h"

namespace insitu {
namespace {

bool is_expert(TensorRole r) {
  return r == TensorRole::kExpertGate || r == TensorRole::kExpertUp || r == TensorRole::kExpertDown;
}

bool is_sensitive(TensorRole r) {
  return r == TensorRole::kTokenEmbedding || r == TensorRole::kOutput;
}

bool is_eligible_linear(TensorRole r) {
  switch (r) {
    case TensorRole::kAttnQ:
    case TensorRole::kAttnK:
    case TensorRole::kAttnV:
    case TensorRole::kAttnQkv:
    case TensorRole::kAttnO:
    case TensorRole::kFfnGate:
    case TensorRole::kFfnUp:
    case TensorRole::kFfnGateUp:
    case TensorRole::kFfnDown: return true;
    default: return is_expert(r);
  }
}

// llama.cpp's heuristic for which layers of a stack get more bits: the first and last eighth
// and every third layer in between.
bool use_more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

// The K-quant mix rules as data: for a default type and a tensor role, the raised type.
// Returns the default unchanged when no rule applies.
QuantType mixed_type(QuantType def, const TensorSpec& s, int n_layers) {
  using Q = QuantType;
  const bool attn_v = s.role == TensorRole::kAttnV;
  const bool attn_o = s.role == TensorRole::kAttnO;
  const bool qkv = s.role == TensorRole::kAttnQkv;
  const bool down = s.role == TensorRole::kFfnDown || s.role == TensorRole::kExpertDown;
  const int l = s.layer;
  switch (def) {
    case Q::kQ2K:  // llama.cpp Q2_K (n_gqa >= 4 gives attn_v q4_K, else q3_K)
      if (attn_v) return Q::kQ4K;
      if (down || attn_o) return Q::kQ3K;
      return def;
    case Q::kQ3K:  // Q3_K_M
      if (attn_v) return l < 2 ? Q::kQ5K : Q::kQ4K;
      if (down) return l < n_layers / 16 ? Q::kQ5K : Q::kQ4K;
      if (attn_o || qkv) return Q::kQ4K;
      return def;
    case Q::kQ4K:  // Q4_K_M
      if ((attn_v || down) && use_more_bits(l, n_layers)) return Q::kQ6K;
      if (qkv) return Q::kQ5K;
      return def;
    case Q::kQ5K:  // Q5_K_M
      if ((attn_v || down) && use_more_bits(l, n_layers)) return Q::kQ6K;
      if (qkv) return Q::kQ6K;
      return def;
    default: return def;
  }
}

}  // namespace

std::vector<TensorPlan> plan_quantization(const std::vector<TensorSpec>& specs,
                                          const QuantPolicy& policy) {
  int n_layers = 0;
  for (const TensorSpec& s : specs) n_layers = std::max(n_layers, s.layer + 1);
  std::vector<TensorPlan> plans;
  plans.reserve(specs.size());
  bool any = false;
  for (const TensorSpec& spec : specs) {
    TensorPlan p;
    p.spec = &spec;
    if (spec.is_matrix() && spec.role != TensorRole::kMoeRouter) {
      std::optional<QuantType> want;
      if (auto t = policy.topology.type_for(spec.name, spec.layer)) {
        want = *t;
        p.from_topology = true;
      } else if (policy.default_type) {
        const bool moqe = policy.organization == IsqOrganization::kMoqe;
        if (moqe) {
          if (is_expert(spec.role))
            want = policy.pure ? *policy.default_type
                               : mixed_type(*policy.default_type, spec, n_layers);
        } else if (is_sensitive(spec.role)) {
          want = policy.promote_sensitive ? promote_for_sensitive_tensor(*policy.default_type)
                                          : *policy.default_type;
          p.promoted = *want != *policy.default_type;
        } else if (is_eligible_linear(spec.role)) {
          want =
              policy.pure ? *policy.default_type : mixed_type(*policy.default_type, spec, n_layers);
          p.mixed = *want != *policy.default_type;
        }
      }
      if (want) {
        p.requested = *want;
        std::optional<QuantType> t = want;
        const int64_t cols = spec.shape[1];
        while (t && cols % quant_info(*t).block_size != 0) {
          const auto next = fallback_for_shape(*t);
          p.fallback += std::string(p.fallback.empty() ? "" : ", ") + "row length " +
                        std::to_string(cols) + " not a multiple of " +
                        std::string(quant_info(*t).name) + "'s block " +
                        std::to_string(quant_info(*t).block_size);
          t = next;
        }
        if (t) {
          p.quantize = true;
          p.type = *t;
          any = true;
        } else {
          p.fallback += "; kept in the checkpoint dtype";
        }
      }
    }
    plans.push_back(p);
  }
  if (policy.active() && !any) {
    bool anything_requested = false;
    for (const auto& p : plans) anything_requested |= !p.fallback.empty();
    if (!anything_requested)
      throw Error(ErrorCode::kInvalidArgument,
                  policy.organization == IsqOrganization::kMoqe
                      ? "--isq-organization moqe selects only mixture-of-experts weights, and this "
                        "model has none"
                      : "quantization was requested, but no model weight matched");
  }
  return plans;
}

}  // namespace insitu
