#include "quant/registry.h"

#include <array>
#include <cctype>
#include <string>

#include "core/error.h"

namespace insitu {
namespace {

using QT = QuantType;
using QF = QuantFamily;

// Rows are filled in by issue 3 (quantization types); dense rows are final.
constexpr std::array<QuantTypeInfo, static_cast<size_t>(QT::kCount)> kTable = {{
    {QT::kF32, "f32", QF::kDense, 1, 4, 0, false, std::nullopt},
    {QT::kF16, "f16", QF::kDense, 1, 2, 1, false, std::nullopt},
    {QT::kBF16, "bf16", QF::kDense, 1, 2, 30, false, std::nullopt},
    {QT::kQ4_0, "q4_0", QF::kGgmlLegacy, 32, 18, 2, true, QT::kQ8_0},
    {QT::kQ4_1, "q4_1", QF::kGgmlLegacy, 32, 20, 3, true, QT::kQ8_1},
    {QT::kQ5_0, "q5_0", QF::kGgmlLegacy, 32, 22, 6, true, QT::kQ8_0},
    {QT::kQ5_1, "q5_1", QF::kGgmlLegacy, 32, 24, 7, true, QT::kQ8_1},
    {QT::kQ8_0, "q8_0", QF::kGgmlLegacy, 32, 34, 8, true, QT::kQ8_0},
    {QT::kQ8_1, "q8_1", QF::kGgmlLegacy, 32, 36, 9, false, QT::kQ8_1},
    {QT::kQ2K, "q2k", QF::kGgmlK, 256, 84, 10, true, QT::kQ8K},
    {QT::kQ3K, "q3k", QF::kGgmlK, 256, 110, 11, true, QT::kQ8K},
    {QT::kQ4K, "q4k", QF::kGgmlK, 256, 144, 12, true, QT::kQ8K},
    {QT::kQ5K, "q5k", QF::kGgmlK, 256, 176, 13, true, QT::kQ8K},
    {QT::kQ6K, "q6k", QF::kGgmlK, 256, 210, 14, true, QT::kQ8K},
    {QT::kQ8K, "q8k", QF::kGgmlK, 256, 292, 15, false, QT::kQ8K},
    {QT::kAfq2, "afq2", QF::kAfq, 64, 20, -1, true, std::nullopt},
    {QT::kAfq3, "afq3", QF::kAfq, 64, 28, -1, true, std::nullopt},
    {QT::kAfq4, "afq4", QF::kAfq, 64, 36, -1, true, std::nullopt},
    {QT::kAfq6, "afq6", QF::kAfq, 64, 52, -1, true, std::nullopt},
    {QT::kAfq8, "afq8", QF::kAfq, 64, 68, -1, true, std::nullopt},
    {QT::kHqq4, "hqq4", QF::kHqq, 64, 36, -1, false, std::nullopt},
    {QT::kHqq8, "hqq8", QF::kHqq, 64, 68, -1, false, std::nullopt},
    {QT::kFp8, "fp8", QF::kFp8, 1, 1, -1, false, std::nullopt},
    {QT::kF8Q8, "f8q8", QF::kFp8, 32, 33, -1, false, std::nullopt},
    {QT::kMxfp4, "mxfp4", QF::kMxfp4, 32, 17, 39, false, std::nullopt},
}};

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

std::span<const QuantTypeInfo> all_quant_types() { return kTable; }

std::optional<QuantType> parse_quant_type(std::string_view name) {
  const std::string n = normalize(name);
  for (const auto& row : kTable)
    if (normalize(row.name) == n) return row.type;
  return std::nullopt;
}

size_t quant_row_bytes(QuantType t, int64_t cols) {
  const auto& info = quant_info(t);
  INSITU_CHECK(cols % info.block_size == 0, "row length not a multiple of the block size");
  return static_cast<size_t>(cols / info.block_size) * info.bytes_per_block;
}

}  // namespace insitu
