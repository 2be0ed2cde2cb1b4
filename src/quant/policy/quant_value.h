// Parsing of user-facing quantization values (--quant, --isq, topology `isq:` entries, HTTP
// re_isq bodies): numeric shorthands resolved per backend, canonical names and aliases from the
// registry, and `auto`. Errors list every valid choice, so a typo is answered with the menu.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "quant/backend.h"
#include "quant/registry.h"

namespace insitu {

struct QuantValue {
  bool is_auto = false;
  QuantType type = QuantType::kF32;  // valid when !is_auto
};

// Numeric shorthands: 2,3,4,5,6 -> q2k..q6k and 8 -> q8_0 on CPU and CUDA; AFQ on Metal
// (5 stays q5k). Throws Error(kInvalidArgument) naming `flag` and listing the valid values.
QuantValue parse_quant_value(std::string_view value, Backend backend, std::string_view flag,
                             bool allow_auto = true);
// "2, 3, 4, 5, 6, 8, q4_0, ..., auto" for messages and --help.
std::string valid_quant_values(bool allow_auto = true);

// Type used for embeddings and the output head when `t` is the default: one step up for the
// low-bit types (reference §2.5), since these tensors are the most sensitive to error.
QuantType promote_for_sensitive_tensor(QuantType t);
// Next type to try when a tensor's row length is not a multiple of t's block size
// (K-quant -> legacy chain of the reference §2.6); nullopt: keep the tensor unquantized.
std::optional<QuantType> fallback_for_shape(QuantType t);

}  // namespace insitu
