// The AVX2 row dequantizers (kernels/cpu/x86/avx2/quant_decode_avx2.h) against the registry's
// reference dequantizers: every vectorised type must produce the same bytes (memcmp), on
// quantized Gaussian rows, on random block bytes with extreme scales (largest/smallest f16 and
// f32, subnormals, signed zeros, infinities; the byte codes of fp8, f8q8 and MXFP4 take all 256
// values, NaN codes included) and on all-zero blocks, over whole rows and sub-ranges of blocks.
// Skipped on hosts without AVX2.
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"

namespace insitu {
namespace {

using kernels::avx2::avx2_dequantizer;

// Every quantized type and the byte offsets of its f16 and f32 scale fields within a block.
struct VectorType {
  QuantType type;
  std::vector<int> half_fields;
  std::vector<int> float_fields = {};
};
const std::vector<VectorType>& vector_types() {
  using QT = QuantType;
  static const std::vector<VectorType> kTypes = {
      {QT::kQ4_0, {0}},    {QT::kQ4_1, {0, 2}},     {QT::kQ5_0, {0}},        {QT::kQ5_1, {0, 2}},
      {QT::kQ8_0, {0}},    {QT::kQ8_1, {0, 2}},     {QT::kQ2K, {80, 82}},    {QT::kQ3K, {108}},
      {QT::kQ4K, {0, 2}},  {QT::kQ5K, {0, 2}},      {QT::kQ6K, {208}},       {QT::kQ8K, {}, {0}},
      {QT::kAfq2, {0, 2}}, {QT::kAfq3, {0, 2}},     {QT::kAfq4, {0, 2}},     {QT::kAfq6, {0, 2}},
      {QT::kAfq8, {0, 2}}, {QT::kHqq4, {}, {0, 4}}, {QT::kHqq8, {}, {0, 4}}, {QT::kFp8, {}, {0}},
      {QT::kF8Q8, {}},     {QT::kMxfp4, {}},
  };
  return kTypes;
}

bool host_has_avx2() {
  return detected_isa() >= IsaLevel::kAvx2;
}

// Decodes blocks [b0, b0 + nb) of `row` both ways and compares the bytes.
void expect_identical(QuantType t, const uint8_t* row, int64_t b0, int64_t nb,
                      const std::string& what) {
  const QuantTypeInfo& info = quant_info(t);
  const int64_t n = nb * info.block_size;
  std::vector<float> ref(n), got(n + 1, -1.f);
  info.dequantize(row + b0 * info.bytes_per_block, ref.data(), n);
  avx2_dequantizer(t)(row, b0, nb, got.data());
  const int64_t mismatch = [&] {
    for (int64_t i = 0; i < n; ++i)
      if (std::memcmp(&ref[i], &got[i], sizeof(float)) != 0) return i;
    return int64_t{-1};
  }();
  EXPECT_EQ(mismatch, -1) << info.name << " " << what << " blocks [" << b0 << ", " << b0 + nb
                          << "): element " << mismatch << " ref "
                          << (mismatch >= 0 ? ref[mismatch] : 0.f) << " got "
                          << (mismatch >= 0 ? got[mismatch] : 0.f);
  EXPECT_EQ(std::memcmp(ref.data(), got.data(), n * sizeof(float)), 0) << info.name << " " << what;
  EXPECT_EQ(got[n], -1.f) << info.name << " " << what << ": wrote past nb blocks";
}

// Whole row, then a few sub-ranges (decode segments start mid-row).
void check_row(QuantType t, const uint8_t* row, int64_t nblocks, const std::string& what) {
  expect_identical(t, row, 0, nblocks, what);
  expect_identical(t, row, 1, nblocks - 1, what);
  expect_identical(t, row, nblocks / 2, 1, what);
  expect_identical(t, row, nblocks - 1, 1, what);
}

// The list above is the registry's quantized types: a new type must get a decoder and a place
// in it. (The dense types have no blocks and no decoder.)
TEST(QuantDecodeAvx2, CoversEveryQuantizedType) {
  size_t quantized = 0;
  for (const QuantTypeInfo& info : all_quant_types()) {
    if (info.family == QuantFamily::kDense) {
      EXPECT_EQ(avx2_dequantizer(info.type), nullptr) << info.name;
      continue;
    }
    ++quantized;
    EXPECT_NE(avx2_dequantizer(info.type), nullptr) << info.name;
    bool listed = false;
    for (const VectorType& v : vector_types()) listed |= v.type == info.type;
    EXPECT_TRUE(listed) << info.name << " is missing from vector_types()";
  }
  EXPECT_EQ(quantized, vector_types().size());
}

TEST(QuantDecodeAvx2, QuantizedGaussianRowsMatchReference) {
  if (!host_has_avx2()) GTEST_SKIP() << "host has no AVX2";
  for (const VectorType& v : vector_types()) {
    const QuantTypeInfo& info = quant_info(v.type);
    const int64_t nblocks = 4096 / info.block_size + 3;
    const int64_t cols = nblocks * info.block_size;
    const int64_t rows = 4;
    for (uint32_t seed : {1u, 2u, 3u}) {
      std::mt19937 rng(seed);
      // Row r has sigma 10^(r - 2): tiny to large scales, some f16-subnormal at sigma 1e-2
      // times small levels.
      std::vector<float> src(rows * cols);
      for (int64_t r = 0; r < rows; ++r) {
        std::normal_distribution<float> g(0.f, std::pow(10.f, static_cast<float>(r) - 2.f));
        for (int64_t c = 0; c < cols; ++c) src[r * cols + c] = g(rng);
      }
      const size_t row_bytes = quant_row_bytes(v.type, cols);
      std::vector<uint8_t> q(rows * row_bytes);
      quantize_rows(v.type, src.data(), q.data(), rows, cols, nullptr, nullptr);
      for (int64_t r = 0; r < rows; ++r)
        check_row(v.type, q.data() + r * row_bytes, nblocks,
                  "gaussian seed " + std::to_string(seed) + " row " + std::to_string(r));
    }
  }
}

TEST(QuantDecodeAvx2, RandomBlocksWithExtremeScalesMatchReference) {
  if (!host_has_avx2()) GTEST_SKIP() << "host has no AVX2";
  // Largest finite, smallest subnormal, a mid subnormal, signed zeros, one, infinities, and
  // their negatives. NaN scales are left out: F16C quiets signalling NaNs, the reference
  // conversion keeps the payload as is.
  const uint16_t kHalves[] = {0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x0200, 0x0000, 0x8000,
                              0x3C00, 0xBC00, 0x7C00, 0xFC00, 0x0400, 0x1234};
  const uint32_t kFloats[] = {0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001, 0x00400000,
                              0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000,
                              0xFF800000, 0x00800000, 0x3B800000, 0x43E00000};
  for (const VectorType& v : vector_types()) {
    const QuantTypeInfo& info = quant_info(v.type);
    const int64_t nblocks = 64;
    for (uint32_t seed : {11u, 12u, 13u}) {
      std::mt19937 rng(seed);
      std::vector<uint8_t> row(nblocks * info.bytes_per_block);
      for (auto& b : row) b = static_cast<uint8_t>(rng());
      for (int64_t i = 0; i < nblocks; ++i) {
        uint8_t* blk = row.data() + i * info.bytes_per_block;
        for (int off : v.half_fields) {
          // Every other block a random finite f16, else one of the extremes.
          uint16_t h = static_cast<uint16_t>(rng());
          if (i % 2 == 1)
            h = kHalves[rng() % std::size(kHalves)];
          else if ((h & 0x7C00) == 0x7C00)
            h &= 0xBFFF;  // exponent 31 (inf/NaN) -> a finite one
          std::memcpy(blk + off, &h, 2);
        }
        for (int off : v.float_fields) {
          // The same for f32 fields; NaNs left out for the same reason (which NaN a product
          // of two keeps depends on the operand order).
          uint32_t f = static_cast<uint32_t>(rng());
          if (i % 2 == 1)
            f = kFloats[rng() % std::size(kFloats)];
          else if ((f & 0x7F800000u) == 0x7F800000u)
            f &= 0xBFFFFFFFu;
          std::memcpy(blk + off, &f, 4);
        }
        if (i % 7 == 3) std::memset(blk, 0, info.bytes_per_block);  // all-zero block
      }
      check_row(v.type, row.data(), nblocks, "random bytes seed " + std::to_string(seed));
    }
  }
}

}  // namespace
}  // namespace insitu
