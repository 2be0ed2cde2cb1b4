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
  switch (t) {
    case QuantType::kAfq2:
    case QuantType::kAfq3:
    case QuantType::kAfq4: return QuantType::kAfq6;
    case QuantType::kAfq6:
    case QuantType::kAfq8: return QuantType::kAfq8;
    case QuantType::kQ2K:
    case QuantType::kQ3K:
    case QuantType::kQ4K:
    case QuantType::kQ4_0:
    case QuantType::kQ4_1: return QuantType::kQ6K;
    case QuantType::kQ5K:
    case QuantType::kQ6K:
    case QuantType::kQ8K:
    case QuantType::kQ5_0:
    case QuantType::kQ5_1:
    case QuantType::kQ8_0:
    case QuantType::kQ8_1: return QuantType::kQ8_0;
    default: return t;
  }
}

std::optional<QuantType> fallback_for_shape(QuantType t) {
  switch (t) {
    case QuantType::kQ2K:
    case QuantType::kQ3K: return QuantType::kQ4_0;
    case QuantType::kQ4K: return QuantType::kQ4_1;
    case QuantType::kQ5K: return QuantType::kQ5_0;
    case QuantType::kQ6K: return QuantType::kQ5_1;
    case QuantType::kQ8K: return QuantType::kQ8_1;
    default: return std::nullopt;
  }
}

}  // namespace insitu
