#include "model/isq/quant_plan.h"

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
    case TensorRole::kAttnQ: case TensorRole::kAttnK: case TensorRole::kAttnV:
    case TensorRole::kAttnQkv: case TensorRole::kAttnO: case TensorRole::kFfnGate:
    case TensorRole::kFfnUp: case TensorRole::kFfnGateUp: case TensorRole::kFfnDown:
      return true;
    default:
      return is_expert(r);
  }
}

}  // namespace

std::vector<TensorPlan> plan_quantization(const std::vector<TensorSpec>& specs,
                                          const QuantPolicy& policy) {
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
          if (is_expert(spec.role)) want = *policy.default_type;
        } else if (is_sensitive(spec.role)) {
          want = policy.promote_sensitive ? promote_for_sensitive_tensor(*policy.default_type)
                                          : *policy.default_type;
          p.promoted = *want != *policy.default_type;
        } else if (is_eligible_linear(spec.role)) {
          want = *policy.default_type;
        }
      }
      if (want) {
        p.requested = *want;
        std::optional<QuantType> t = want;
        const int64_t cols = spec.shape[1];
        while (t && cols % quant_info(*t).block_size != 0) {
          const auto next = fallback_for_shape(*t);
          p.fallback += std::string(p.fallback.empty() ? "" : ", ") + "row length " +
                        std::to_string(cols) + " not a multiple of " + std::string(quant_info(*t).name) +
                        "'s block " + std::to_string(quant_info(*t).block_size);
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
