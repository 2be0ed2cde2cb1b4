// Element types of tensors as stored in checkpoints (safetensors / GGUF dense types).
// Quantized block formats are not dtypes: they live in quant/registry.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace insitu {

enum class DType : uint8_t {
  kF64,
  kF32,
  kF16,
  kBF16,
  kI64,
  kI32,
  kI16,
  kI8,
  kU64,
  kU32,
  kU16,
  kU8,
  kBool,
  kF8E4M3,
  kF8E5M2,
  kF8E8M0,  // power-of-two scales of MX formats (safetensors >= 0.6 "F8_E8M0")
};

// Size of one element in bytes.
size_t dtype_size(DType t);
// Safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);

}  // namespace insitu
