// The quantization policy engine: one function turns (tensor table, request) into a type per
// tensor. The policy is data (default type, organization, topology rules, promotion); the same
// engine serves load-time ISQ, `insitu quantize` and `tune` estimates.
//
// Per tensor, in order (reference §2.4-2.7):
//   1. eligibility: linear weights of attention and MLP/experts, the output head and the token
//      embedding; under `moqe` only routed-expert weights. Norms, biases, routers stay dense.
//   2. a topology rule's type wins; else embeddings/head get the promoted type (default
//      organization only); else the default type, raised for the most sensitive tensors by the
//      K-quant mixes below unless `pure`; a topology rule can also select tensors that the
//      default selection leaves alone (quantized even without a default type).
//
// K-quant mixes (quality per bit): llama.cpp's q2_K / Q3_K_M / Q4_K_M / Q5_K_M recipes, which
// give attention-value, attention-output and MLP-down projections more bits. With them, insitu's
// q2k/q3k/q4k/q5k are byte-for-byte llama.cpp's Q2_K/Q3_K_M/Q4_K_M/Q5_K_M for these tensors;
// `pure` (--pure) quantizes every selected tensor to exactly the requested type.
//   3. shape fallback: if the row length is not a multiple of the type's block, follow
//      fallback_for_shape(); if nothing fits, the tensor stays in its source dtype.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/arch.h"
#include "model/isq/topology.h"
#include "quant/registry.h"

namespace insitu {

enum class IsqOrganization { kDefault, kMoqe };

struct QuantPolicy {
  std::optional<QuantType> default_type;  // --isq / resolved --quant
  IsqOrganization organization = IsqOrganization::kDefault;
  Topology topology;
  bool promote_sensitive = true;
  bool pure = false;  // no K-quant mixes
  bool active() const { return default_type.has_value() || !topology.empty(); }
};

struct TensorPlan {
  const TensorSpec* spec = nullptr;
  bool quantize = false;  // false: keep the checkpoint dtype
  QuantType requested{};  // type the policy asked for (before shape fallback)
  QuantType type{};       // type actually used when quantize
  bool promoted = false;  // embedding/head promotion applied
  bool mixed = false;     // raised by a K-quant mix rule
  bool from_topology = false;
  std::string fallback;  // non-empty: why `type` differs from `requested`
};

// One entry per spec, same order. Throws Error(kInvalidArgument) when a policy is active but
// selects no tensor at all (e.g. moqe on a dense model).
std::vector<TensorPlan> plan_quantization(const std::vector<TensorSpec>& specs,
                                          const QuantPolicy& policy);

}  // namespace insitu
