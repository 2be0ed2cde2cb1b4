#include "quant/policy/quant_value.h"

#include <cctype>

#include "core/error.h"

namespace insitu {

std::string valid_quant_values(bool allow_auto) {
  std::string s = "2, 3, 4, 5, 6, 8";
  for (const auto& row : all_quant_types())
    if (!quant_is_dense(row.type)) s += ", " + std::string(row.name);
  if (allow_auto) s += ", auto";
  return s;
}

QuantValue parse_quant_value(std::string_view value, Backend backend, std::string_view flag,
                             bool allow_auto) {
  std::string v;
  for (char c : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  QuantValue out;
  if (v == "auto" && allow_auto) {
    out.is_auto = true;
    return out;
  }
  const bool metal = backend == Backend::kMetal;
  if (v == "2")
    out.type = metal ? QuantType::kAfq2 : QuantType::kQ2K;
  else if (v == "3")
    out.type = metal ? QuantType::kAfq3 : QuantType::kQ3K;
  else if (v == "4")
    out.type = metal ? QuantType::kAfq4 : QuantType::kQ4K;
  else if (v == "5")
    out.type = QuantType::kQ5K;
  else if (v == "6")
    out.type = metal ? QuantType::kAfq6 : QuantType::kQ6K;
  else if (v == "8")
    out.type = metal ? QuantType::kAfq8 : QuantType::kQ8_0;
  else if (auto t = parse_quant_type(v); t && !quant_is_dense(*t))
    out.type = *t;
  else
    throw Error(ErrorCode::kInvalidArgument, std::string(flag) + " '" + std::string(value) +
                                                 "' is not a quantization type; valid values: " +
                                                 valid_quant_values(allow_auto));
  return out;
}

QuantType promote_for_sensitive_tensor(QuantType t) {
  return quant_info(t).sensitive_promotion.value_or(t);
}

std::optional<QuantType> fallback_for_shape(QuantType t) {
  return quant_info(t).shape_fallback;
}

}  // namespace insitu
