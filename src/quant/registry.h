// THE quantization type registry: one row per weight storage type, indexed by QuantType.
//
// Every consumer (CLI parsing, size estimates, GGUF/UQFF mapping, kernels dispatch, tests)
// iterates or indexes this table; no other file may switch over type properties.
// Dense passthrough types (f32/f16/bf16) are rows too, so a weight matrix always has one type.
// Discriminant values and canonical names are on-disk identifiers: append, never renumber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "quant/backend.h"

namespace insitu {

class ThreadPool;

// Quantizes one row of n elements (n a multiple of block_size) into n/block_size blocks.
// importance: optional per-element weights (an imatrix row, n values), nullptr for none; types
// whose uses_importance is false ignore it.
using QuantizeRowFn = void (*)(const float* x, void* out, int64_t n, const float* importance);
// Decodes n elements (a multiple of block_size) from n/block_size blocks.
using DequantizeRowFn = void (*)(const void* in, float* out, int64_t n);

enum class QuantType : uint8_t {
  kF32 = 0, kF16 = 1, kBF16 = 2,
  kQ4_0 = 3, kQ4_1 = 4, kQ5_0 = 5, kQ5_1 = 6, kQ8_0 = 7, kQ8_1 = 8,
  kQ2K = 9, kQ3K = 10, kQ4K = 11, kQ5K = 12, kQ6K = 13, kQ8K = 14,
  kAfq2 = 15, kAfq3 = 16, kAfq4 = 17, kAfq6 = 18, kAfq8 = 19,
  kHqq4 = 20, kHqq8 = 21,
  kFp8 = 22, kF8Q8 = 23, kMxfp4 = 24,
  kCount
};

enum class QuantFamily : uint8_t { kDense, kGgmlLegacy, kGgmlK, kAfq, kHqq, kFp8, kMxfp4 };

// The fields of a block in storage order, each either one byte, one f16 (2 bytes) or an array of
// 4-byte words; what the row-group layout (quant/row_groups.h) interleaves. count == 0: the type has no
// row-group layout.
struct BlockFields {
  uint8_t count = 0;
  uint8_t bytes[6] = {};
};

struct QuantTypeInfo {
  QuantType type;
  std::string_view name;       // canonical, lower case: "q4k", "q4_0", "bf16"
  QuantFamily family;
  int block_size;              // elements per block (1 for dense types)
  int bytes_per_block;         // bytes per block including its scales
  int ggml_type;               // ggml_type id for GGUF/UQFF, -1 if none
  bool uses_importance;        // quantizer can take imatrix weights
  std::optional<QuantType> activation_type;  // type activations are quantized to for dot products
  QuantizeRowFn quantize;      // scalar reference quantizer (bit-exact with ggml for ggml types)
  DequantizeRowFn dequantize;  // scalar reference dequantizer
  // Backends that can run a weight of this type (reference §3.1/§3.8), whatever this build has:
  // a request for a type outside this set is an error before any weight is read.
  BackendSet backends;
  // Type for embeddings and the output head when this type is the default (reference §2.5:
  // one step up for the low-bit types, these tensors being the most sensitive to error);
  // nullopt: keep this type. Read through promote_for_sensitive_tensor (quant/policy).
  std::optional<QuantType> sensitive_promotion = std::nullopt;
  // Next type to try when a row length is not a multiple of block_size (K-quant -> legacy
  // chain of the reference §2.6); nullopt: the tensor stays unquantized.
  std::optional<QuantType> shape_fallback = std::nullopt;
  // Block fields for the row-group layout of decode kernels (see BlockFields).
  BlockFields fields = {};
  // Effective bits per weight, scales included.
  double bits_per_weight() const { return 8.0 * bytes_per_block / block_size; }
};

const QuantTypeInfo& quant_info(QuantType t);
std::span<const QuantTypeInfo> all_quant_types();
// Case-insensitive, ignoring '_' and '-': "Q4_K", "q4_k", "q4k", "Q4K" and ggml's "q4_K" all
// name q4k. Also accepts "fp8"'s "f8e4m3" and dense names ("float32", "fp16", "bfloat16"...).
// llama.cpp's mix recipes ("q4_k_m", "q4_k_s", ...) are NOT storage types and are rejected:
// they choose different types per tensor, which a caller must expand explicitly.
// nullopt if unknown.
std::optional<QuantType> parse_quant_type(std::string_view name);
// Bytes one row of `cols` elements takes; cols must be a multiple of block_size.
size_t quant_row_bytes(QuantType t, int64_t cols);
inline bool quant_is_dense(QuantType t) { return quant_info(t).family == QuantFamily::kDense; }

// The backends column: whether `t` runs on `b`.
inline bool quant_supported_on(QuantType t, Backend b) {
  return (quant_info(t).backends & backend_bit(b)) != 0;
}
// "cpu, cuda, metal": the backends `t` runs on, for messages.
std::string quant_backend_names(QuantType t);
// "q4_0, q4_1, ...": the quantized (non-dense) types `b` supports, in registry order.
std::string quant_type_names_on(Backend b);

// Registry-level row conversions (dispatch through the table). n must be a multiple of the
// type's block size; throws Error(kInvalidArgument) otherwise.
void quantize_row(QuantType t, const float* x, void* out, int64_t n,
                  const float* importance = nullptr);
void dequantize_row(QuantType t, const void* in, float* out, int64_t n);

// Quantizes a row-major [rows, cols] f32 matrix into rows * quant_row_bytes(t, cols) bytes,
// rows in parallel on `pool` (serially if pool is null). importance: cols weights shared by
// every row, or null. The output is identical for any thread count.
void quantize_rows(QuantType t, const float* x, void* out, int64_t rows, int64_t cols,
                   const float* importance, ThreadPool* pool);

}  // namespace insitu
