// AFQ, HQQ, FP8 / F8Q8 and MXFP4: layouts, conversions and round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/afq/afq.h"
#include "quant/fp8/fp8.h"
#include "quant/hqq/hqq.h"
#include "quant/mxfp4/mxfp4.h"
#include "quant/registry.h"
#include "quant_test_util.h"

namespace insitu {
namespace {

// ---------------------------------------------------------------- AFQ

TEST(Afq, PackingIsMlxLittleEndianBitStream) {
  std::mt19937 rng(1);
  for (int bits : {2, 3, 4, 6, 8}) {
    const int count = 64;
    std::vector<uint8_t> codes(count);
    for (auto& c : codes) c = static_cast<uint8_t>(rng() & ((1u << bits) - 1));
    std::vector<uint8_t> packed(count * bits / 8);
    afq::pack_codes(codes.data(), count, bits, packed.data());
    // Independent model: MLX's u32 words, value j at bit j*bits of the row's bit stream.
    std::vector<uint32_t> words(count * bits / 32, 0);
    for (int j = 0; j < count; ++j) {
      const uint64_t bit = static_cast<uint64_t>(j) * bits;
      const uint64_t v = static_cast<uint64_t>(codes[j]) << (bit % 32);
      words[bit / 32] |= static_cast<uint32_t>(v);
      if (bit % 32 + bits > 32) words[bit / 32 + 1] |= static_cast<uint32_t>(v >> 32);
    }
    ASSERT_EQ(packed.size(), words.size() * 4);
    EXPECT_EQ(0, std::memcmp(packed.data(), words.data(), packed.size())) << bits;
    std::vector<uint8_t> back(count);
    afq::unpack_codes(packed.data(), count, bits, back.data());
    EXPECT_EQ(back, codes) << bits;
  }
  // 3 bits: 8 values in 3 bytes, e.g. codes 1..7,0 -> 0b000'111'110'101'100'011'010'001.
  const uint8_t c3[8] = {1, 2, 3, 4, 5, 6, 7, 0};
  uint8_t p3[3];
  afq::pack_codes(c3, 8, 3, p3);
  const uint32_t want = 1 | 2 << 3 | 3 << 6 | 4 << 9 | 5 << 12 | 6 << 15 | 7 << 18;
  EXPECT_EQ(p3[0] | p3[1] << 8 | p3[2] << 16, static_cast<int>(want));
}

TEST(Afq, RoundTripErrorIsWithinHalfAStep) {
  const auto x = test::gaussian(128 * 8, 0.05f, 11);
  for (auto method : {afq::Method::kMlx, afq::Method::kMinMax}) {
    for (int bits : {2, 3, 4, 6, 8}) {
      for (int group : {32, 64, 128}) {
        const int64_t n = static_cast<int64_t>(x.size());
        std::vector<uint8_t> q(n / group * afq::block_bytes(bits, group));
        std::vector<float> y(n);
        afq::quantize(x.data(), q.data(), n, bits, group, method);
        afq::dequantize(q.data(), y.data(), n, bits, group);
        for (int64_t g = 0; g < n / group; ++g) {
          const uint8_t* blk = q.data() + g * afq::block_bytes(bits, group);
          uint16_t s16;
          std::memcpy(&s16, blk, 2);
          const float step = std::fabs(f16_to_f32(s16));
          uint8_t codes[128];
          afq::unpack_codes(blk + 4, group, bits, codes);
          for (int j = 0; j < group; ++j) {
            const int64_t i = g * group + j;
            // MLX stretches the step so that 0 is a level, which can push the far edge past
            // the top level: those elements are clipped by design (min/max never clips).
            if (method == afq::Method::kMlx && codes[j] == (1 << bits) - 1) continue;
            ASSERT_LE(std::fabs(y[i] - x[i]), 0.5f * step * 1.001f + 1e-6f)
                << "bits " << bits << " group " << group << " i " << i;
          }
        }
      }
    }
  }
}

TEST(Afq, MlxMethodKeepsZeroExactAndEdgeClose) {
  // A group containing 0: MLX's scale choice makes 0 a level (q = -q0).
  std::vector<float> x(64);
  for (int j = 0; j < 64; ++j) x[j] = 0.01f * static_cast<float>(j - 20);
  std::vector<uint8_t> q(afq::block_bytes(4, 64));
  std::vector<float> y(64);
  afq::quantize(x.data(), q.data(), 64, 4, 64, afq::Method::kMlx);
  afq::dequantize(q.data(), y.data(), 64, 4, 64);
  EXPECT_NEAR(y[20], 0.f, 1e-4f);  // up to f16 rounding of scale and bias
  EXPECT_NEAR(y[63], x[63], 1e-3f);
  EXPECT_THROW(afq::quantize(x.data(), q.data(), 64, 5, 64, afq::Method::kMlx), Error);
}

// ---------------------------------------------------------------- HQQ

double l1(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return s / static_cast<double>(a.size());
}

TEST(Hqq, OptimiserBeatsPlainMinMaxRounding) {
  const auto x = test::gaussian(64 * 512, 0.02f, 5);
  const int64_t n = static_cast<int64_t>(x.size());
  for (int bits : {4, 8}) {
    std::vector<uint8_t> q(n / 64 * (8 + 64 * bits / 8));
    std::vector<float> plain(n), opt(n);
    hqq::quantize(x.data(), q.data(), n, bits, 0);
    hqq::dequantize(q.data(), plain.data(), n, bits);
    hqq::quantize(x.data(), q.data(), n, bits, hqq::kDefaultSteps);
    hqq::dequantize(q.data(), opt.data(), n, bits);
    const double l1_plain = l1(x, plain), l1_opt = l1(x, opt);
    const double rmse_plain = test::error_stats(x, plain).rmse;
    const double rmse_opt = test::error_stats(x, opt).rmse;
    RecordProperty("hqq" + std::to_string(bits), std::to_string(l1_opt / l1_plain));
    std::printf("hqq%d: mean|e| plain %.4g opt %.4g; rmse plain %.4g opt %.4g\n", bits, l1_plain,
                l1_opt, rmse_plain, rmse_opt);
    EXPECT_LT(l1_opt, l1_plain) << bits;
    EXPECT_LT(rmse_opt, rmse_plain) << bits;
  }
}

TEST(Hqq, RowFormatPacking) {
  // Levels 0..15 then 15..0: byte k = q[k] << 4 | q[k+32].
  std::vector<float> x(64);
  for (int j = 0; j < 64; ++j) x[j] = static_cast<float>(j % 16);
  std::vector<uint8_t> q(40);
  hqq::quantize(x.data(), q.data(), 64, 4, 0);
  float scale, zero;
  std::memcpy(&scale, q.data(), 4);
  std::memcpy(&zero, q.data() + 4, 4);
  EXPECT_FLOAT_EQ(scale, 1.f);
  EXPECT_FLOAT_EQ(zero, 0.f);
  for (int k = 0; k < 32; ++k) EXPECT_EQ(q[8 + k], ((k % 16) << 4) | (k % 16)) << k;
}

TEST(Hqq, AxisZeroTensorLayoutRoundTrips) {
  const int64_t rows = 128, cols = 96, numel = rows * cols;
  const auto w = test::gaussian(numel, 0.02f, 9);
  for (int bits : {4, 8}) {
    const auto t = hqq::quantize_tensor_axis0(w.data(), numel, bits, hqq::kDefaultSteps);
    ASSERT_EQ(t.scales.size(), static_cast<size_t>(numel / 64));
    ASSERT_EQ(t.w_q.size(), static_cast<size_t>(bits == 8 ? numel : numel / 2));
    std::vector<float> out(numel);
    hqq::dequantize_tensor_axis0(t, out.data());
    // Group c holds elements c + k*numel/64; its step is scales[c].
    const int64_t ng = numel / 64;
    for (int64_t i = 0; i < numel; ++i)
      ASSERT_LE(std::fabs(out[i] - w[i]), std::fabs(t.scales[i % ng]) * 1.5f) << i;
    EXPECT_LT(test::error_stats(w, out).rmse, bits == 8 ? 2e-4 : 4e-3);
  }
}

// ---------------------------------------------------------------- FP8

TEST(Fp8, DecodesAll256CodesExactly) {
  for (int c = 0; c < 256; ++c) {
    const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
    const float v = fp8::e4m3_to_f32(static_cast<uint8_t>(c));
    if (e == 15 && m == 7) {
      EXPECT_TRUE(std::isnan(v)) << c;
      continue;
    }
    const double mag = e == 0 ? m / 8.0 * std::pow(2.0, -6) : (1 + m / 8.0) * std::pow(2.0, e - 7);
    EXPECT_EQ(static_cast<double>(v), s ? -mag : mag) << c;
    EXPECT_EQ(std::signbit(v), s == 1) << c;
    EXPECT_EQ(fp8::f32_to_e4m3(v), c) << c;  // encode(decode(c)) == c, -0 included
  }
  EXPECT_EQ(fp8::e4m3_to_f32(0x7E), 448.f);
  EXPECT_EQ(fp8::e4m3_to_f32(0x38), 1.f);
  EXPECT_EQ(fp8::e4m3_to_f32(0x01), std::ldexp(1.f, -9));
}

TEST(Fp8, SaturatesAndKeepsNan) {
  EXPECT_EQ(fp8::f32_to_e4m3(448.f), 0x7E);
  EXPECT_EQ(fp8::f32_to_e4m3(463.99f), 0x7E);
  EXPECT_EQ(fp8::f32_to_e4m3(1e6f), 0x7E);
  EXPECT_EQ(fp8::f32_to_e4m3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(fp8::f32_to_e4m3(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(fp8::f32_to_e4m3(-500.f), 0xFE);
  EXPECT_EQ(fp8::f32_to_e4m3(std::numeric_limits<float>::quiet_NaN()) & 0x7F, 0x7F);
}

TEST(Fp8, EncodeIsNearestWithTiesToEven) {
  // Brute force over all finite codes for random and midpoint inputs.
  std::vector<float> values;
  for (int c = 0; c < 0x7E; ++c) {  // midpoints between neighbours
    const float a = fp8::e4m3_to_f32(static_cast<uint8_t>(c));
    const float b = fp8::e4m3_to_f32(static_cast<uint8_t>(c + 1));
    values.push_back(0.5f * (a + b));
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-9.f, 9.f);
  for (int i = 0; i < 20000; ++i) values.push_back(std::ldexp(u(rng), static_cast<int>(rng() % 16) - 10));
  for (float v : values) {
    if (std::fabs(v) >= 448.f) continue;
    int best = -1;
    double best_d = 1e30;
    for (int c = 0; c < 256; ++c) {
      const float f = fp8::e4m3_to_f32(static_cast<uint8_t>(c));
      if (std::isnan(f) || std::signbit(f) != std::signbit(v)) continue;
      const double d = std::fabs(static_cast<double>(f) - v);
      if (d < best_d || (d == best_d && (c & 1) == 0 && (best & 1) == 1)) {
        best_d = d;
        best = c;
      }
    }
    ASSERT_EQ(fp8::f32_to_e4m3(v), best) << v;
  }
}

TEST(Fp8, RowFormatRoundTripAndBlockScaledCheckpoints) {
  const auto x = test::gaussian(256 * 4, 0.02f, 21);
  std::vector<uint8_t> q(quant_row_bytes(QuantType::kFp8, 1024));
  std::vector<float> y(1024);
  quantize_row(QuantType::kFp8, x.data(), q.data(), 1024);
  dequantize_row(QuantType::kFp8, q.data(), y.data(), 1024);
  for (int i = 0; i < 1024; ++i) ASSERT_NEAR(y[i], x[i], std::fabs(x[i]) / 16 + 1e-7f) << i;

  // A 256x256 checkpoint with 128x128 blocks: the dense dequantization and the 1x128 rows agree.
  const int64_t R = 256, C = 256;
  std::vector<uint8_t> w(R * C);
  std::mt19937 rng(4);
  for (auto& b : w) {
    do b = static_cast<uint8_t>(rng()); while ((b & 0x7F) == 0x7F);
  }
  const float scale_inv[4] = {0.5f, 2.f, 0.125f, 3.f};
  std::vector<float> dense(R * C), via_rows(R * C);
  fp8::dequantize_block_scaled(w.data(), R, C, scale_inv, 128, 128, dense.data());
  EXPECT_EQ(dense[0], fp8::e4m3_to_f32(w[0]) * 0.5f);
  EXPECT_EQ(dense[200 * C + 200], fp8::e4m3_to_f32(w[200 * C + 200]) * 3.f);
  std::vector<uint8_t> rows(quant_row_bytes(QuantType::kFp8, C) * R);
  fp8::block_scaled_to_rows(w.data(), R, C, scale_inv, 128, 128, rows.data());
  for (int64_t r = 0; r < R; ++r)
    dequantize_row(QuantType::kFp8, rows.data() + r * quant_row_bytes(QuantType::kFp8, C),
                   via_rows.data() + r * C, C);
  EXPECT_EQ(0, std::memcmp(dense.data(), via_rows.data(), dense.size() * 4));
  EXPECT_THROW(fp8::block_scaled_to_rows(w.data(), R, C, scale_inv, 128, 64, rows.data()), Error);
}

TEST(Fp8, PerTensorMatchesTheReferenceRecipe) {
  const std::vector<float> x = {0.5f, -2.f, 1.f, 0.25f};
  std::vector<uint8_t> codes(4);
  const float scale = fp8::quantize_tensor_per_tensor(x.data(), 4, codes.data());
  EXPECT_EQ(scale, 224.f);  // 448 / absmax
  EXPECT_EQ(codes[1], 0xFE);
  EXPECT_EQ(fp8::e4m3_to_f32(codes[0]) / scale, 0.5f);
}

TEST(F8Q8, RoundTripFollowsTheReference) {
  const auto x = test::gaussian(32 * 64, 1.f, 17);
  std::vector<uint8_t> q(quant_row_bytes(QuantType::kF8Q8, 2048));
  std::vector<float> y(2048);
  quantize_row(QuantType::kF8Q8, x.data(), q.data(), 2048);
  dequantize_row(QuantType::kF8Q8, q.data(), y.data(), 2048);
  for (int b = 0; b < 64; ++b) {
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127.f;
    // Stored scale error (e4m3 of d*448: 3 mantissa bits) plus half a level.
    for (int j = 0; j < 32; ++j)
      ASSERT_LE(std::fabs(y[b * 32 + j] - x[b * 32 + j]), std::fabs(x[b * 32 + j]) / 16 + 0.5f * d * 1.07f);
  }
  EXPECT_EQ(quant_info(QuantType::kF8Q8).bytes_per_block, 33);
}

// ---------------------------------------------------------------- MXFP4

TEST(Mxfp4, E2M1ThresholdsTieUp) {
  const std::pair<float, int> cases[] = {{0.f, 0},    {0.24f, 0},  {0.25f, 1}, {0.74f, 1},
                                         {0.75f, 2},  {1.25f, 3},  {1.75f, 4}, {2.49f, 4},
                                         {2.5f, 5},   {3.5f, 6},   {4.99f, 6}, {5.f, 7},
                                         {100.f, 7},  {-0.5f, 9},  {-6.f, 15}, {-3.f, 13}};
  for (const auto& [v, c] : cases) EXPECT_EQ(mxfp4::e2m1_code(v), c) << v;
}

TEST(Mxfp4, LayoutIsGgmlAndSplitTensorsRoundTrip) {
  std::vector<float> x(64);
  for (int j = 0; j < 64; ++j) x[j] = (j % 2 ? -1.f : 1.f) * mxfp4::kE2M1[j % 8];
  std::vector<uint8_t> q(34);
  mxfp4::quantize_with_rule(x.data(), q.data(), 64, mxfp4::ExponentRule::kOcp);
  // amax 6 -> floor(log2 6) - 2 = 0 -> e = 127; codes exact.
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], (mxfp4::e2m1_code(x[0])) | (mxfp4::e2m1_code(x[16]) << 4));
  std::vector<float> y(64);
  dequantize_row(QuantType::kMxfp4, q.data(), y.data(), 64);
  EXPECT_EQ(x, y);
  std::vector<uint8_t> blocks(32), scales(2), back(34);
  mxfp4::to_split_tensors(q.data(), 64, blocks.data(), scales.data());
  EXPECT_EQ(blocks[0], mxfp4::e2m1_code(x[0]) | (mxfp4::e2m1_code(x[1]) << 4));  // even low
  mxfp4::from_split_tensors(blocks.data(), scales.data(), 64, back.data());
  EXPECT_EQ(back, q);
  // The reference's rule on the same block: floor(log2(6/6)) = 0 -> also 127.
  mxfp4::quantize_with_rule(x.data(), q.data(), 64, mxfp4::ExponentRule::kReference);
  EXPECT_EQ(q[0], 127);
  // amax 4.5: OCP floor(log2 4.5) - 2 = 0 -> 127; reference floor(log2 0.75) = -1 -> 126.
  std::vector<float> z(32, 1.f);
  z[0] = 4.5f;
  mxfp4::quantize_with_rule(z.data(), q.data(), 32, mxfp4::ExponentRule::kReference);
  EXPECT_EQ(q[0], 126);
  mxfp4::quantize_with_rule(z.data(), q.data(), 32, mxfp4::ExponentRule::kOcp);
  EXPECT_EQ(q[0], 127);
}

}  // namespace
}  // namespace insitu
