#include "quant/registry.h"

#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "quant/afq/afq.h"
#include "quant/fast/fast_quant.h"
#include "quant/fp8/fp8.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/ggml_quants.h"
#include "quant/hqq/hqq.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu {
namespace {

using QT = QuantType;
using QF = QuantFamily;

// Dense rows: "quantize" is a conversion (f16/bf16 round to nearest even).
void quantize_f32(const float* x, void* out, int64_t n, const float*) {
  std::memcpy(out, x, static_cast<size_t>(n) * 4);
}
void dequantize_f32(const void* in, float* y, int64_t n) {
  std::memcpy(y, in, static_cast<size_t>(n) * 4);
}
void quantize_f16(const float* x, void* out, int64_t n, const float*) {
  auto* p = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) p[i] = f32_to_f16(x[i]);
}
void dequantize_f16(const void* in, float* y, int64_t n) {
  const auto* p = static_cast<const uint16_t*>(in);
  for (int64_t i = 0; i < n; ++i) y[i] = f16_to_f32(p[i]);
}
void quantize_bf16(const float* x, void* out, int64_t n, const float*) {
  auto* p = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(x[i]);
}
void dequantize_bf16(const void* in, float* y, int64_t n) {
  const auto* p = static_cast<const uint16_t*>(in);
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(p[i]);
}

// Block sizes and bytes: ggml's for the ggml types (checked against blocks.h below); AFQ
// group 64 with f16 scale+bias (afq/afq.h); HQQ group 64 with f32 scale+zero (hqq/hqq.h); fp8
// 1x128 blocks with an f32 scale (fp8/fp8.h); F8Q8 and MXFP4 as the reference / ggml.
// uses_importance: ggml's quantizers that change their output given an imatrix.
// backends (reference §3.1, §3.8): q8_1 and q8k are rejected for CUDA ISQ (their CUDA matmul
// needs an optional backend), f8q8 is CPU only; every other row, dense ones included, runs on
// all three (HQQ, FP8 and MXFP4 through a dequantize path on some of them).
// sensitive_promotion: q2k..q4k and q4_0/q4_1 -> q6k (llama.cpp's token_embd/output choice),
// the 5..8-bit ggml types -> q8_0, afq2..afq4 -> afq6, afq6 -> afq8.
// shape_fallback: q2k/q3k -> q4_0, q4k -> q4_1, q5k -> q5_0, q6k -> q5_1, q8k -> q8_1.
// fields: the ggml block structs of quant/ggml/blocks.h, field by field, AFQ's f16 scale, f16
// bias and code bytes, MXFP4's exponent byte and nibbles; they must add up to bytes_per_block: checked at compile time below.
// One row per type, by hand: clang-format would put every column of a row on its own line.
// clang-format off
constexpr std::array<QuantTypeInfo, static_cast<size_t>(QT::kCount)> kTable = {{
    {QT::kF32, "f32", QF::kDense, 1, 4, 0, false, std::nullopt, quantize_f32, dequantize_f32,
     kOnAll},
    {QT::kF16, "f16", QF::kDense, 1, 2, 1, false, std::nullopt, quantize_f16, dequantize_f16,
     kOnAll},
    {QT::kBF16, "bf16", QF::kDense, 1, 2, 30, false, std::nullopt, quantize_bf16, dequantize_bf16,
     kOnAll},
    {QT::kQ4_0, "q4_0", QF::kGgmlLegacy, 32, 18, 2, true, QT::kQ8_0, ggml::quantize_q4_0,
     ggml::dequantize_q4_0, kOnAll, QT::kQ6K, std::nullopt, {2, {2, 16}}},
    {QT::kQ4_1, "q4_1", QF::kGgmlLegacy, 32, 20, 3, true, QT::kQ8_1, ggml::quantize_q4_1,
     ggml::dequantize_q4_1, kOnAll, QT::kQ6K, std::nullopt, {3, {2, 2, 16}}},
    {QT::kQ5_0, "q5_0", QF::kGgmlLegacy, 32, 22, 6, true, QT::kQ8_0, ggml::quantize_q5_0,
     ggml::dequantize_q5_0, kOnAll, QT::kQ8_0, std::nullopt, {3, {2, 4, 16}}},
    {QT::kQ5_1, "q5_1", QF::kGgmlLegacy, 32, 24, 7, true, QT::kQ8_1, ggml::quantize_q5_1,
     ggml::dequantize_q5_1, kOnAll, QT::kQ8_0, std::nullopt, {4, {2, 2, 4, 16}}},
    {QT::kQ8_0, "q8_0", QF::kGgmlLegacy, 32, 34, 8, false, QT::kQ8_0, ggml::quantize_q8_0,
     ggml::dequantize_q8_0, kOnAll, std::nullopt, std::nullopt, {2, {2, 32}}},
    {QT::kQ8_1, "q8_1", QF::kGgmlLegacy, 32, 36, 9, false, QT::kQ8_1, ggml::quantize_q8_1,
     ggml::dequantize_q8_1, kOnCpu | kOnMetal, QT::kQ8_0, std::nullopt},
    {QT::kQ2K, "q2k", QF::kGgmlK, 256, 84, 10, true, QT::kQ8K, ggml::quantize_q2_K,
     ggml::dequantize_q2_K, kOnAll, QT::kQ6K, QT::kQ4_0, {4, {16, 64, 2, 2}}},
    {QT::kQ3K, "q3k", QF::kGgmlK, 256, 110, 11, true, QT::kQ8K, ggml::quantize_q3_K,
     ggml::dequantize_q3_K, kOnAll, QT::kQ6K, QT::kQ4_0, {4, {32, 64, 12, 2}}},
    {QT::kQ4K, "q4k", QF::kGgmlK, 256, 144, 12, true, QT::kQ8K, ggml::quantize_q4_K,
     ggml::dequantize_q4_K, kOnAll, QT::kQ6K, QT::kQ4_1, {4, {2, 2, 12, 128}}},
    {QT::kQ5K, "q5k", QF::kGgmlK, 256, 176, 13, true, QT::kQ8K, ggml::quantize_q5_K,
     ggml::dequantize_q5_K, kOnAll, QT::kQ8_0, QT::kQ5_0, {5, {2, 2, 12, 32, 128}}},
    {QT::kQ6K, "q6k", QF::kGgmlK, 256, 210, 14, true, QT::kQ8K, ggml::quantize_q6_K,
     ggml::dequantize_q6_K, kOnAll, QT::kQ8_0, QT::kQ5_1, {4, {128, 64, 16, 2}}},
    {QT::kQ8K, "q8k", QF::kGgmlK, 256, 292, 15, false, QT::kQ8K, ggml::quantize_q8_K,
     ggml::dequantize_q8_K, kOnCpu | kOnMetal, QT::kQ8_0, QT::kQ8_1},
    {QT::kAfq2, "afq2", QF::kAfq, 64, afq::block_bytes(2, 64), -1, false, std::nullopt,
     afq::quantize_afq2, afq::dequantize_afq2, kOnAll, QT::kAfq6, std::nullopt, {3, {2, 2, 16}}},
    {QT::kAfq3, "afq3", QF::kAfq, 64, afq::block_bytes(3, 64), -1, false, std::nullopt,
     afq::quantize_afq3, afq::dequantize_afq3, kOnAll, QT::kAfq6, std::nullopt, {3, {2, 2, 24}}},
    {QT::kAfq4, "afq4", QF::kAfq, 64, afq::block_bytes(4, 64), -1, false, std::nullopt,
     afq::quantize_afq4, afq::dequantize_afq4, kOnAll, QT::kAfq6, std::nullopt, {3, {2, 2, 32}}},
    {QT::kAfq6, "afq6", QF::kAfq, 64, afq::block_bytes(6, 64), -1, false, std::nullopt,
     afq::quantize_afq6, afq::dequantize_afq6, kOnAll, QT::kAfq8, std::nullopt, {3, {2, 2, 48}}},
    {QT::kAfq8, "afq8", QF::kAfq, 64, afq::block_bytes(8, 64), -1, false, std::nullopt,
     afq::quantize_afq8, afq::dequantize_afq8, kOnAll, std::nullopt, std::nullopt, {3, {2, 2, 64}}},
    {QT::kHqq4, "hqq4", QF::kHqq, 64, 40, -1, false, std::nullopt, hqq::quantize_hqq4,
     hqq::dequantize_hqq4, kOnAll},
    {QT::kHqq8, "hqq8", QF::kHqq, 64, 72, -1, false, std::nullopt, hqq::quantize_hqq8,
     hqq::dequantize_hqq8, kOnAll},
    {QT::kFp8, "fp8", QF::kFp8, fp8::kFp8Block, sizeof(fp8::BlockFp8), -1, false, std::nullopt,
     fp8::quantize_fp8, fp8::dequantize_fp8, kOnAll},
    {QT::kF8Q8, "f8q8", QF::kFp8, fp8::kF8Q8Block, sizeof(fp8::BlockF8Q8), -1, false, std::nullopt,
     fp8::quantize_f8q8, fp8::dequantize_f8q8, kOnCpu},
    {QT::kMxfp4, "mxfp4", QF::kMxfp4, mxfp4::kBlock, sizeof(mxfp4::BlockMxfp4), 39, false,
     std::nullopt, mxfp4::quantize_mxfp4, mxfp4::dequantize_mxfp4, kOnAll, std::nullopt, std::nullopt,
     {2, {1, 16}}},
}};
// clang-format on

static_assert(sizeof(ggml::BlockQ4_0) == 18 && sizeof(ggml::BlockQ8K) == 292);

// Every row's block fields are bytes, f16 scalars or word arrays and add up to its block.
constexpr bool fields_cover_blocks() {
  for (const auto& row : kTable) {
    if (row.fields.count == 0) continue;
    int sum = 0;
    for (int i = 0; i < row.fields.count; ++i) {
      const int b = row.fields.bytes[i];
      if (b != 1 && b != 2 && b % 4 != 0) return false;
      sum += b;
    }
    if (sum != row.bytes_per_block) return false;
  }
  return true;
}
static_assert(fields_cover_blocks());

// Extra accepted spellings (compared after normalize()).
struct Alias {
  std::string_view name;
  QT type;
};
constexpr Alias kAliases[] = {
    {"float32", QT::kF32}, {"fp32", QT::kF32},    {"float16", QT::kF16},
    {"fp16", QT::kF16},    {"half", QT::kF16},    {"bfloat16", QT::kBF16},
    {"f8e4m3", QT::kFp8},  {"fp8e4m3", QT::kFp8}, {"float8e4m3fn", QT::kFp8},
};

std::string normalize(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const QuantTypeInfo& quant_info(QuantType t) {
  INSITU_CHECK(t < QT::kCount, "quant type out of range");
  return kTable[static_cast<size_t>(t)];
}

std::span<const QuantTypeInfo> all_quant_types() {
  return kTable;
}

std::string quant_backend_names(QuantType t) {
  std::string s;
  for (auto b : {Backend::kCpu, Backend::kCuda, Backend::kMetal})
    if (quant_supported_on(t, b)) s += (s.empty() ? "" : ", ") + std::string(backend_name(b));
  return s;
}

std::string quant_type_names_on(Backend b) {
  std::string s;
  for (const auto& row : kTable)
    if (!quant_is_dense(row.type) && quant_supported_on(row.type, b))
      s += (s.empty() ? "" : ", ") + std::string(row.name);
  return s;
}

std::optional<QuantType> parse_quant_type(std::string_view name) {
  const std::string n = normalize(name);
  if (n.empty()) return std::nullopt;
  for (const auto& row : kTable)
    if (normalize(row.name) == n) return row.type;
  for (const auto& a : kAliases)
    if (normalize(a.name) == n) return a.type;
  return std::nullopt;
}

size_t quant_row_bytes(QuantType t, int64_t cols) {
  const auto& info = quant_info(t);
  INSITU_CHECK(cols % info.block_size == 0, "row length not a multiple of the block size");
  return static_cast<size_t>(cols / info.block_size) * info.bytes_per_block;
}

namespace {
const QuantTypeInfo& checked_info(QuantType t, int64_t n, const char* what) {
  const auto& info = quant_info(t);
  if (n < 0 || n % info.block_size != 0)
    throw Error(ErrorCode::kInvalidArgument,
                std::string(what) + ": " + std::to_string(n) + " elements is not a multiple of " +
                    std::string(info.name) + "'s block size " + std::to_string(info.block_size));
  return info;
}
}  // namespace

void quantize_row(QuantType t, const float* x, void* out, int64_t n, const float* importance) {
  checked_info(t, n, "quantize_row").quantize(x, out, n, importance);
}

void dequantize_row(QuantType t, const void* in, float* out, int64_t n) {
  checked_info(t, n, "dequantize_row").dequantize(in, out, n);
}

void quantize_rows(QuantType t, const float* x, void* out, int64_t rows, int64_t cols,
                   const float* importance, ThreadPool* pool) {
  checked_info(t, cols, "quantize_rows");
  const size_t row_bytes = quant_row_bytes(t, cols);
  auto* dst = static_cast<uint8_t*>(out);
  // The fast quantizers give the reference's bytes (quant/fast/fast_quant.h).
  auto run = [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r)
      quantize_row_fast(t, x + r * cols, dst + static_cast<size_t>(r) * row_bytes, cols,
                        importance);
  };
  if (pool == nullptr || pool->size() <= 1 || rows < 2)
    run(0, rows, 0);
  else
    pool->parallel_for(rows, 1, run);
}

}  // namespace insitu
