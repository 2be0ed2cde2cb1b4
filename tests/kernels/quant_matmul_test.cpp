// Parity of every quantized matmul path (each ISA level the host supports, forced with
// set_isa_cap; decode m <= 4 and prefill m > 4; matmul precision exact and fast) against
// matmul_reference (double accumulation over the registry's dequantized weights). Under fast a
// path may round its operands (kernels/matmul_precision.h): it is then held to the same bounds
// against a double reference fed the operands rounded as matmul_quantized_rounding says, and
// to kRoundedCond against the exact reference. Weights are made with the registry's
// quantizers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/half.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/matmul.h"
#include "kernels/matmul_precision.h"
#include "kernels/matmul_quant.h"
#include "quant/layout/row_groups.h"

namespace insitu {
namespace {

// THE error table. Per type and path: bounds on cond = ||y - ref|| / ||A|| (A = sum of
// |products| per output, see Err), and elem <= 4x that bound. Decode (m <= 4) runs the AVX-512
// VNNI kernel (23-bit activation digits) or, below AVX-512, an exact f32/double dot; prefill
// runs AMX (bf16 hi/lo split of weights and activations: each product within ~3 * 2^-18 of
// exact) or the AVX-512/AVX2 f32 FMA kernels. Every path must also keep the plain relative L2
// below kMaxRelL2 (the project requirement) on well-conditioned outputs.
// "measured": worst over all shapes, activation kinds and ISA levels of this test on the
// development host (Xeon with AVX-512 + AMX), printed by the test as QUANT_ERR lines:
// decode cond / prefill cond / worst plain L2 of either path.
constexpr double kMaxRelL2 = 1e-5;
struct ErrorBound {
  QuantType type;
  double gemv_cond;
  double gemm_cond;
  const char* measured;
};
constexpr ErrorBound kBounds[] = {
    {QuantType::kQ4_0, 1e-6, 1e-5, "1.6e-07 / 2.4e-06 / 4.5e-06"},
    {QuantType::kQ4_1, 1e-6, 1e-5, "1.6e-07 / 3.2e-06 / 4.5e-06"},
    {QuantType::kQ5_0, 1e-6, 1e-5, "8.5e-08 / 3.2e-06 / 4.6e-06"},
    {QuantType::kQ5_1, 1e-6, 1e-5, "2.1e-07 / 2.6e-06 / 4.1e-06"},
    {QuantType::kQ8_0, 1e-6, 1e-5, "8.9e-08 / 1.8e-06 / 2.6e-06"},
    {QuantType::kQ8_1, 1e-6, 1e-5, "8.9e-08 / 1.8e-06 / 2.6e-06"},
    {QuantType::kQ2K, 1e-6, 1e-5, "1.6e-07 / 1.2e-06 / 4.8e-06"},
    {QuantType::kQ3K, 1e-6, 1e-5, "4.6e-08 / 1.2e-06 / 4.4e-06"},
    {QuantType::kQ4K, 1e-6, 1e-5, "1.2e-07 / 1.5e-06 / 5.0e-06"},
    {QuantType::kQ5K, 1e-6, 1e-5, "9.9e-08 / 1.1e-06 / 5.2e-06"},
    {QuantType::kQ6K, 1e-6, 1e-5, "8.1e-08 / 1.2e-06 / 5.0e-06"},
    {QuantType::kQ8K, 1e-6, 1e-5, "4.5e-08 / 8.3e-07 / 3.0e-06"},
    {QuantType::kAfq2, 1e-6, 1e-5, "1.9e-07 / 3.0e-06 / 4.4e-06"},
    {QuantType::kAfq3, 1e-6, 1e-5, "1.8e-07 / 2.9e-06 / 4.3e-06"},
    {QuantType::kAfq4, 1e-6, 1e-5, "1.6e-07 / 2.8e-06 / 4.3e-06"},
    {QuantType::kAfq6, 1e-6, 1e-5, "1.5e-07 / 2.3e-06 / 4.6e-06"},
    {QuantType::kAfq8, 1e-6, 1e-5, "1.6e-07 / 2.6e-06 / 4.2e-06"},
    {QuantType::kHqq4, 1e-6, 1e-5, "1.6e-07 / 4.2e-06 / 6.3e-06"},
    {QuantType::kHqq8, 1e-6, 1e-5, "1.5e-07 / 3.3e-06 / 4.9e-06"},
    {QuantType::kFp8, 1e-6, 1e-5, "4.6e-08 / 1.1e-06 / 3.1e-06"},
    {QuantType::kF8Q8, 1e-6, 1e-5, "8.5e-08 / 1.8e-06 / 2.6e-06"},
    {QuantType::kMxfp4, 1e-6, 1e-5, "1.7e-07 / 1.8e-06 / 2.5e-06"},
};

// Rounded operands (precision fast) against the exact product: cond bound for every type.
// Measured worst (QUANT_ERR "vs exact"): see the test output; lane-8 activation rounding and
// bf16 weights x activations both stay near 2^-9 of the products' magnitude.
constexpr double kRoundedCond = 4e-3;

const ErrorBound& bound_for(QuantType t) {
  for (const auto& b : kBounds)
    if (b.type == t) return b;
  ADD_FAILURE() << "no error bound for " << quant_info(t).name;
  return kBounds[0];
}

std::vector<IsaLevel> host_levels() {
  std::vector<IsaLevel> levels;
  for (int l = 0; l <= static_cast<int>(detected_isa()); ++l)
    levels.push_back(static_cast<IsaLevel>(l));
  return levels;
}

class IsaCapGuard {
 public:
  explicit IsaCapGuard(IsaLevel l) : prev_(set_isa_cap(l)) {}
  ~IsaCapGuard() { set_isa_cap(prev_); }

 private:
  IsaLevel prev_;
};

struct QWeights {
  QuantType type;
  int64_t rows, cols;
  std::vector<uint8_t> bytes;
  WeightLayout layout = WeightLayout::kRows;
  WeightMatrix matrix() const { return {type, rows, cols, bytes.data(), layout}; }
};

// Row counts that are a multiple of 16 take the row-group layout wherever the type has one
// (as loading does on hosts whose decode kernels read it), so those shapes run the row-group
// kernels at the ISA levels that have them and the dispatcher's conversion back to the row
// format everywhere else.
QWeights quantize_weights(QuantType t, int64_t rows, int64_t cols, const std::vector<float>& src,
                          bool allow_row_groups = true) {
  QWeights w{t, rows, cols, std::vector<uint8_t>(rows * quant_row_bytes(t, cols))};
  quantize_rows(t, src.data(), w.bytes.data(), rows, cols, nullptr, nullptr);
  if (allow_row_groups && rows % kRowGroupRows == 0 && row_groups_defined(t)) {
    std::vector<uint8_t> grouped(w.bytes.size());
    pack_row_groups(t, w.bytes.data(), grouped.data(), rows, cols);
    w.bytes = std::move(grouped);
    w.layout = WeightLayout::kRowGroups;
  }
  return w;
}

std::vector<float> gaussian(size_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (auto& f : v) f = d(rng);
  return v;
}

// Activation kinds: plain Gaussian; heavy-tailed (a few channels 50x, as LLM hidden states);
// all-positive (post-activation-like, maximises cancellation against zero points / offsets).
enum class XKind { kGaussian, kOutliers, kPositive };
std::vector<float> activations(XKind kind, int64_t m, int64_t cols, uint32_t seed) {
  std::vector<float> x = gaussian(m * cols, 1.f, seed);
  if (kind == XKind::kOutliers)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t c = 5; c < cols; c += 97) x[i * cols + c] *= 50.f;
  if (kind == XKind::kPositive)
    for (auto& v : x) v = std::fabs(v) + 0.1f;
  return x;
}

float round_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;
  std::memcpy(&f, &b, 4);
  return f;
}

// Each aligned group of `n` elements: s = max|x| / levels (f32), x -> nearbyint(x / s) * s.
void round_groups(std::vector<float>& x, size_t n, float levels) {
  for (size_t g = 0; g < x.size(); g += n) {
    float amax = 0;
    for (size_t k = g; k < g + n; ++k) amax = std::max(amax, std::fabs(x[k]));
    const float s = amax * (1.f / levels);
    for (size_t k = g; k < g + n; ++k)
      x[k] = s > 0 ? static_cast<float>(std::nearbyint(x[k] / s) * double(s)) : 0.f;
  }
}

// x rounded as OperandRounding r says for activations (cols is a multiple of 4).
std::vector<float> round_activations(std::vector<float> x, OperandRounding r) {
  if (r == OperandRounding::kBf16)
    for (auto& v : x) v = round_bf16(v);
  if (r == OperandRounding::kActivationGroup16Stride32) {  // cols is then a multiple of 256
    const size_t stride = 32;
    for (size_t b = 0; b < x.size(); b += 4 * stride)
      for (size_t l = 0; l < stride; l += 4) {
        float amax = 0;
        for (size_t g = 0; g < 4; ++g)
          for (size_t k = 0; k < 4; ++k)
            amax = std::max(amax, std::fabs(x[b + stride * g + l + k]));
        const float s = amax * (1.f / 127.f);
        for (size_t g = 0; g < 4; ++g)
          for (size_t k = 0; k < 4; ++k) {
            float& v = x[b + stride * g + l + k];
            v = s > 0 ? static_cast<float>(std::nearbyint(v / s) * double(s)) : 0.f;
          }
      }
  }
  if (r == OperandRounding::kActivationGroup16Int8)  // cols is then a multiple of 16
    round_groups(x, 16, 127.f);
  if (r == OperandRounding::kActivationLane8) round_groups(x, 4, 127.f);
  if (r == OperandRounding::kActivationBf16)
    for (auto& v : x) v = round_bf16(v);
  return x;
}

// y[i, r] = sum_c x[i, c] * wd[r, c] in double, wd the dequantized weights (bf16-rounded for
// OperandRounding::kBf16).
std::vector<float> rounded_reference(const QWeights& w, const std::vector<float>& x, int64_t m,
                                     OperandRounding r) {
  std::vector<float> row(w.cols), y(m * w.rows);
  for (int64_t o = 0; o < w.rows; ++o) {
    dequantize_row(w.matrix(), o, row.data());
    if (r == OperandRounding::kBf16)
      for (auto& v : row) v = round_bf16(v);
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      for (int64_t c = 0; c < w.cols; ++c) acc += double(row[c]) * x[i * w.cols + c];
      y[i * w.rows + o] = static_cast<float>(acc);
    }
  }
  return y;
}

// Errors of y against the reference. A single dot product can cancel to almost nothing, so
// besides the plain relative L2 (meaningful on many well-conditioned outputs) the kernels are
// held to errors relative to the magnitude of the products: cond = ||y - ref|| / ||A||_2 and
// elem = max |y - ref| / A with A[i, r] = sum_c |x_ic * w_rc| (immune to cancellation).
struct Err {
  double l2 = 0;
  double cond = 0;
  double elem = 0;
};

Err compare(const QWeights& w, const std::vector<float>& x, int64_t m, const std::vector<float>& y,
            const std::vector<float>& ref) {
  std::vector<float> row(w.cols);
  Err e;
  double num = 0, den = 0, aden = 0;
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w.matrix(), r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double a = 0;
      for (int64_t c = 0; c < w.cols; ++c) a += std::fabs(double(x[i * w.cols + c]) * row[c]);
      const double want = ref[i * w.rows + r];
      const double d = double(y[i * w.rows + r]) - want;
      num += d * d;
      den += want * want;
      aden += a * a;
      if (a > 0)
        e.elem = std::max(e.elem, std::fabs(d) / a);
      else if (d != 0)
        e.elem = INFINITY;
    }
  }
  e.l2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  e.cond = aden > 0 ? std::sqrt(num / aden) : std::sqrt(num);
  return e;
}

// matmul under the current ISA cap and precision, compared with the product of the operands it
// rounds to (matmul_quantized_rounding): ref is the exact product, for the unrounded case.
Err matmul_against_reference(const QWeights& w, const std::vector<float>& x, int64_t m,
                             const std::vector<float>& ref, ThreadPool& pool) {
  const OperandRounding rounding = matmul_quantized_rounding(w.matrix(), m);
  const std::vector<float> xr = round_activations(x, rounding);
  std::vector<float> y(m * w.rows, NAN);
  matmul(w.matrix(), x.data(), m, y.data(), pool);
  return compare(w, xr, m, y,
                 rounding == OperandRounding::kNone ? ref : rounded_reference(w, xr, m, rounding));
}

std::vector<QuantType> quant_types() {
  std::vector<QuantType> t;
  for (const auto& info : all_quant_types())
    if (!quant_is_dense(info.type)) t.push_back(info.type);
  return t;
}

// (rows, blocks per row, m): every rows value in {1, 3, 17, 100, 257}, 1..5, 7 and 9 blocks,
// every m in {1, 2, 3, 4, 5, 16, 31, 64, 100, 512}. {5, 8, 1} and {7, 4, 3} also give the
// register-decoding GEMV units of several blocks (q4_0: 4 blocks) whole rows at m = 1 and 3,
// with a row remainder after the 4- and 2-row blocks; {9, 16, 2} gives the 32-element types
// (q4_1, q5_1, ...) two 256-column units per row at m = 2. Rows that are a multiple of 16 take the
// row-group layout (quantize_weights): every decode m, one and several groups, and prefill
// through the conversion back to rows.
struct Shape {
  int64_t rows, blocks, m;
};
constexpr Shape kShapes[] = {
    {1, 1, 1},    {3, 2, 2},   {17, 3, 3},   {100, 4, 4},  {257, 5, 1},   {17, 7, 5},
    {100, 1, 16}, {3, 9, 31},  {257, 2, 64}, {17, 5, 100}, {100, 3, 512}, {1, 4, 512},
    {257, 9, 4},  {3, 1, 100}, {5, 8, 1},    {7, 4, 3},    {16, 3, 1},    {32, 2, 4},
    {48, 5, 2},   {16, 4, 64}, {160, 9, 3},  {144, 1, 1},  {9, 16, 2},
};

class QuantMatmulTest : public ::testing::TestWithParam<QuantType> {};

TEST_P(QuantMatmulTest, MatchesReferenceOnEveryIsa) {
  const QuantType type = GetParam();
  const auto& info = quant_info(type);
  const ErrorBound& bound = bound_for(type);
  ThreadPool pool(2);
  Err worst[2];                      // [0] decode (m <= 4), [1] prefill
  double worst_vs_exact = 0;         // rounded paths against the exact product
  double worst_groups_vs_exact = 0;  // the same for the row-group layout's decode kernels
  uint32_t seed = 1;
  for (const Shape& s : kShapes) {
    // K-quants have 256-element blocks; cap their columns so the test stays fast.
    const int64_t blocks = info.block_size >= 256 ? std::min<int64_t>(s.blocks, 5) : s.blocks;
    const int64_t cols = blocks * info.block_size;
    const QWeights w = quantize_weights(type, s.rows, cols, gaussian(s.rows * cols, 0.05f, ++seed));
    for (XKind kind : {XKind::kGaussian, XKind::kOutliers, XKind::kPositive}) {
      const std::vector<float> x = activations(kind, s.m, cols, ++seed);
      std::vector<float> ref(s.m * s.rows);
      matmul_reference(w.matrix(), x.data(), s.m, ref.data());
      // Plain relative L2 only where it is well conditioned: many outputs of zero-mean x.
      const bool l2_meaningful = kind != XKind::kPositive && s.m * s.rows >= 64;
      for (IsaLevel isa : host_levels()) {
        for (MatmulPrecision prec : {MatmulPrecision::kExact, MatmulPrecision::kFast}) {
          IsaCapGuard cap(isa);
          MatmulPrecisionScope precision(prec);
          const OperandRounding rounding = matmul_quantized_rounding(w.matrix(), s.m);
          if (prec == MatmulPrecision::kExact) {
            EXPECT_EQ(rounding, OperandRounding::kNone);
          }
          std::vector<float> y(s.m * s.rows, NAN);
          matmul(w.matrix(), x.data(), s.m, y.data(), pool);
          const std::string where =
              std::string(info.name) + " " + std::string(isa_name(isa)) + " " +
              std::string(matmul_precision_name(prec)) + " " + matmul_quantized_kernel_name(s.m) +
              " rows " + std::to_string(s.rows) + " cols " + std::to_string(cols) + " m " +
              std::to_string(s.m) + " x kind " + std::to_string(static_cast<int>(kind)) +
              (w.layout == WeightLayout::kRowGroups ? " row groups" : "");
          Err e;
          if (rounding == OperandRounding::kNone) {
            e = compare(w, x, s.m, y, ref);
          } else {
            const std::vector<float> xr = round_activations(x, rounding);
            e = compare(w, xr, s.m, y, rounded_reference(w, xr, s.m, rounding));
            const Err vs_exact = compare(w, x, s.m, y, ref);
            EXPECT_LE(vs_exact.cond, kRoundedCond) << where;
            worst_vs_exact = std::max(worst_vs_exact, vs_exact.cond);
            if (w.layout == WeightLayout::kRowGroups && s.m <= 4)
              worst_groups_vs_exact = std::max(worst_groups_vs_exact, vs_exact.cond);
          }
          const int path = s.m <= 4 ? 0 : 1;
          const double lim = path == 0 ? bound.gemv_cond : bound.gemm_cond;
          EXPECT_LE(e.cond, lim) << where;
          EXPECT_LE(e.elem, 4 * lim) << where;
          if (l2_meaningful) {
            EXPECT_LE(e.l2, kMaxRelL2) << where;
          }
          worst[path].cond = std::max(worst[path].cond, e.cond);
          worst[path].elem = std::max(worst[path].elem, e.elem);
          if (l2_meaningful) worst[path].l2 = std::max(worst[path].l2, e.l2);
        }
      }
    }
  }
  std::printf(
      "QUANT_ERR %-6s gemv l2 %.1e cond %.1e elem %.1e | gemm l2 %.1e cond %.1e elem %.1e | "
      "rounded vs exact cond %.1e (row groups %.1e)\n",
      std::string(info.name).c_str(), worst[0].l2, worst[0].cond, worst[0].elem, worst[1].l2,
      worst[1].cond, worst[1].elem, worst_vs_exact, worst_groups_vs_exact);
}

// Zero blocks, zero activations and huge scales: the kernels must still match the reference.
// rows = 16 takes the row-group layout where the type has one (quantize_weights), 9 the row
// format with a row tail.
void check_special_values(QuantType type, int64_t rows) {
  const auto& info = quant_info(type);
  const ErrorBound& bound = bound_for(type);
  ThreadPool pool(2);
  const int64_t cols = 4 * info.block_size;
  std::vector<float> src = gaussian(rows * cols, 1.f, 7);
  // Row 0 all zero, row 1 zero except one block, row 2 with huge magnitudes (scales near the
  // top of f16 for f16-scaled formats), row 3 tiny magnitudes.
  std::fill_n(src.begin(), cols, 0.f);
  std::fill_n(src.begin() + cols, cols, 0.f);
  src[cols + info.block_size + 3] = 1.5f;
  const bool f16_scaled = info.family != QuantFamily::kHqq && type != QuantType::kFp8 &&
                          type != QuantType::kQ8K && type != QuantType::kMxfp4;
  const float huge = f16_scaled ? 3000.f : 1e20f;
  for (int64_t c = 0; c < cols; ++c) src[2 * cols + c] *= huge;
  for (int64_t c = 0; c < cols; ++c) src[3 * cols + c] *= 1e-3f;
  const QWeights w = quantize_weights(type, rows, cols, src);
  for (int64_t m : {1, 3, 40}) {
    std::vector<float> x = gaussian(m * cols, 1.f, 11);
    std::fill_n(x.begin(), cols, 0.f);  // activation row 0 all zero
    std::vector<float> ref(m * rows);
    matmul_reference(w.matrix(), x.data(), m, ref.data());
    std::vector<double> abs_dot(m * rows, 0.0);
    std::vector<float> wrow(cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(w.matrix(), r, wrow.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t c = 0; c < cols; ++c)
          abs_dot[i * rows + r] += std::fabs(double(wrow[c]) * x[i * cols + c]);
    }
    for (IsaLevel isa : host_levels()) {
      for (MatmulPrecision prec : {MatmulPrecision::kExact, MatmulPrecision::kFast}) {
        IsaCapGuard cap(isa);
        MatmulPrecisionScope precision(prec);
        const OperandRounding rounding = matmul_quantized_rounding(w.matrix(), m);
        const std::vector<float> want_y =
            rounding == OperandRounding::kNone
                ? ref
                : rounded_reference(w, round_activations(x, rounding), m, rounding);
        std::vector<float> y(m * rows, NAN);
        matmul(w.matrix(), x.data(), m, y.data(), pool);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t r = 0; r < rows; ++r) {
            const float want = want_y[i * rows + r], got = y[i * rows + r];
            ASSERT_TRUE(std::isfinite(got)) << info.name << " " << isa_name(isa) << " m " << m;
            if (i == 0 || r == 0) {
              EXPECT_EQ(got, 0.f) << info.name << " " << isa_name(isa) << " row " << r;
            } else {  // bounded by the sum of |products| (immune to cancellation)
              const double lim = 4 * (m <= 4 ? bound.gemv_cond : bound.gemm_cond);
              EXPECT_NEAR(got, want, lim * abs_dot[i * rows + r])
                  << info.name << " " << isa_name(isa) << " " << matmul_precision_name(prec)
                  << " m " << m << " i " << i << " r " << r;
            }
          }
        }
      }
    }
  }
}

TEST_P(QuantMatmulTest, SpecialValues) {
  for (int64_t rows : {9, 16}) {
    SCOPED_TRACE("rows " + std::to_string(rows));
    check_special_values(GetParam(), rows);
  }
}

// Rows longer than the decode kernel's column segment (2048) and row counts that are not a
// multiple of its row block: every segment boundary, the partial last segment (with K64
// padding for 32-element blocks) and the row tail, for every decode batch size.
TEST_P(QuantMatmulTest, LongRowsAcrossDecodeSegments) {
  const QuantType type = GetParam();
  const auto& info = quant_info(type);
  const ErrorBound& bound = bound_for(type);
  ThreadPool pool(2);
  // 4096 + 2 * 256 + 32 * (block <= 32): two full segments, then a partial one whose length
  // is not a multiple of 64 for 32-element blocks.
  const int64_t cols = 4608 + (info.block_size <= 32 ? 32 : 0);
  for (int64_t rows : {11, 32}) {  // 32: the row-group layout where the type has one
    const QWeights w = quantize_weights(type, rows, cols, gaussian(rows * cols, 0.05f, 99));
    for (int64_t m : {1, 2, 3, 4}) {
      for (XKind kind : {XKind::kGaussian, XKind::kOutliers, XKind::kPositive}) {
        const std::vector<float> x = activations(kind, m, cols, 100 + static_cast<uint32_t>(m));
        std::vector<float> ref(m * rows);
        matmul_reference(w.matrix(), x.data(), m, ref.data());
        for (MatmulPrecision prec : {MatmulPrecision::kExact, MatmulPrecision::kFast}) {
          MatmulPrecisionScope precision(prec);
          const Err e = matmul_against_reference(w, x, m, ref, pool);
          const std::string where = std::string(info.name) + " " +
                                    std::string(matmul_precision_name(prec)) + " m " +
                                    std::to_string(m);
          EXPECT_LE(e.cond, bound.gemv_cond) << where;
          EXPECT_LE(e.elem, 4 * bound.gemv_cond) << where;
        }
      }
    }
  }
}

// Prefill rows longer than the GEMMs stage at once (AVX-512: 2048 columns, AMX: 512): the
// partial sums carried between column chunks through y, a partial last chunk, and a 48-row
// microkernel block with a remainder (rows 53), on every ISA level the host has.
TEST_P(QuantMatmulTest, PrefillAcrossStagingChunks) {
  const QuantType type = GetParam();
  const auto& info = quant_info(type);
  const ErrorBound& bound = bound_for(type);
  ThreadPool pool(2);
  const int64_t cols = 4608 + (info.block_size <= 32 ? 32 : 0);
  const int64_t m = 9;
  for (int64_t rows : {53, 32}) {  // 32: the row-group layout where the type has one
    const QWeights w = quantize_weights(type, rows, cols, gaussian(rows * cols, 0.05f, 7));
    const std::vector<float> x = activations(XKind::kOutliers, m, cols, 8);
    std::vector<float> ref(m * rows);
    matmul_reference(w.matrix(), x.data(), m, ref.data());
    for (IsaLevel isa : host_levels()) {
      for (MatmulPrecision prec : {MatmulPrecision::kExact, MatmulPrecision::kFast}) {
        IsaCapGuard cap(isa);
        MatmulPrecisionScope precision(prec);
        const Err e = matmul_against_reference(w, x, m, ref, pool);
        const std::string where = std::string(info.name) + " " + std::string(isa_name(isa)) + " " +
                                  std::string(matmul_precision_name(prec)) + " rows " +
                                  std::to_string(rows);
        EXPECT_LE(e.cond, bound.gemm_cond) << where;
        EXPECT_LE(e.elem, 4 * bound.gemm_cond) << where;
      }
    }
  }
}

// Auto rounds exactly where fast does for the types auto_rounds_activations names (below
// kAutoRoundMaxBits bits per weight, fp8 and f8q8), and never for the others (the 8-bit integer
// types).
TEST_P(QuantMatmulTest, AutoPrecisionRoundsOnlyCoarseTypes) {
  const QuantType type = GetParam();
  const bool low_bits = quant_info(type).bits_per_weight() < kAutoRoundMaxBits ||
                        type == QuantType::kFp8 || type == QuantType::kF8Q8;
  for (IsaLevel isa : host_levels()) {
    IsaCapGuard cap(isa);
    for (int64_t m : {1, 4, 5, 512}) {
      OperandRounding fast, automatic;
      {
        MatmulPrecisionScope p(MatmulPrecision::kFast);
        fast = matmul_quantized_rounding(type, m);
      }
      {
        MatmulPrecisionScope p(MatmulPrecision::kAuto);
        automatic = matmul_quantized_rounding(type, m);
      }
      EXPECT_EQ(automatic, low_bits ? fast : OperandRounding::kNone)
          << quant_info(type).name << " " << isa_name(isa) << " m " << m;
    }
  }
}

// matmul_group (a layer's q, k, v or gate, up as one pass) gives each matrix exactly what one
// matmul() call gives it, on every ISA level, decode and prefill, in the row-group and the row
// layout; a mixed group runs its same-type runs as one pass each, and a run it cannot (a row
// count off the row grain) falls back to one call per matrix, with the same results.
TEST(MatmulGroup, EqualsOneCallPerMatrixBitForBit) {
  ThreadPool pool(2);
  const int64_t cols = 512;
  struct Case {
    std::vector<QuantType> types;
    std::vector<int64_t> rows;
    bool row_groups = true;  // false: the row layout, which prefill groups too
  };
  const Case cases[] = {
      {{QuantType::kQ4_0, QuantType::kQ4_0, QuantType::kQ4_0}, {64, 16, 16}},  // q, k, v
      {{QuantType::kQ2K, QuantType::kQ2K}, {48, 48}},                          // gate, up
      {{QuantType::kQ4K, QuantType::kQ4K, QuantType::kQ4K}, {32, 32, 17}},     // last off 16
      {{QuantType::kQ8_0, QuantType::kQ8_0}, {40, 24}},                        // first off 16
      {{QuantType::kQ4K, QuantType::kQ4K, QuantType::kQ6K}, {32, 16, 16}},     // v raised
      {{QuantType::kQ8_0, QuantType::kQ8_0, QuantType::kQ8_0}, {64, 32, 32}, false},
      {{QuantType::kQ4K, QuantType::kQ4K}, {96, 32}, false},
  };
  int grouped = 0, grouped_prefill = 0;
  uint32_t seed = 7;
  for (const Case& c : cases) {
    std::vector<QWeights> qw;
    for (size_t i = 0; i < c.types.size(); ++i)
      qw.push_back(quantize_weights(c.types[i], c.rows[i], cols,
                                    gaussian(c.rows[i] * cols, 0.05f, ++seed), c.row_groups));
    std::vector<WeightMatrix> mats;
    for (const QWeights& w : qw) mats.push_back(w.matrix());
    std::vector<const WeightMatrix*> ws;
    for (const WeightMatrix& w : mats) ws.push_back(&w);
    for (IsaLevel isa : host_levels()) {
      IsaCapGuard cap(isa);
      for (int64_t m : {1, 3, 64}) {
        const auto x = gaussian(m * cols, 1.f, ++seed);
        std::vector<std::vector<float>> one(ws.size()), group(ws.size());
        std::vector<float*> ys;
        for (size_t i = 0; i < ws.size(); ++i) {
          one[i].assign(m * ws[i]->rows, NAN);
          group[i].assign(m * ws[i]->rows, NAN);
          matmul(*ws[i], x.data(), m, one[i].data(), pool);
          ys.push_back(group[i].data());
        }
        const bool can = matmul_quantized_can_group(ws, m);
        grouped += can;
        grouped_prefill += can && m > 4;
        matmul_group(ws, x.data(), m, ys, pool);
        for (size_t i = 0; i < ws.size(); ++i)
          EXPECT_EQ(std::memcmp(one[i].data(), group[i].data(), one[i].size() * sizeof(float)), 0)
              << quant_info(c.types[i]).name << " matrix " << i << " " << isa_name(isa) << " m "
              << m;
      }
    }
  }
  EXPECT_GT(grouped, 0);  // some cases did run as one pass
  EXPECT_GT(grouped_prefill, 0);
}

// The exact-code AMX GEMM (q8_0, q8k, fp8 under exact precision) stages 256 weight rows at a
// time: a 600-row matrix on one thread crosses two staging blocks and a remainder, and three
// threads split it unevenly. Held to the type's prefill bound of the one table (kBounds) and
// to kMaxRelL2, as every shape above.
TEST(QuantMatmulLarge, ExactGemmAcrossStagingBlocksAndThreadSplits) {
  MatmulPrecisionScope exact(MatmulPrecision::kExact);
  const int64_t rows = 600, cols = 512;
  uint32_t seed = 11;
  for (QuantType t : {QuantType::kQ8_0, QuantType::kQ8K, QuantType::kFp8, QuantType::kQ4K}) {
    const QWeights w = quantize_weights(t, rows, cols, gaussian(rows * cols, 0.05f, ++seed));
    for (int64_t m : {37, 70}) {
      const auto x = gaussian(m * cols, 1.f, ++seed);
      std::vector<float> ref(m * rows);
      matmul_reference(w.matrix(), x.data(), m, ref.data());
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> y(m * rows, NAN);
        matmul(w.matrix(), x.data(), m, y.data(), pool);
        const Err e = compare(w, x, m, y, ref);
        const std::string where = std::string(quant_info(t).name) + " m " + std::to_string(m) +
                                  " threads " + std::to_string(threads);
        EXPECT_LE(e.cond, bound_for(t).gemm_cond) << where;
        EXPECT_LE(e.l2, kMaxRelL2) << where;
      }
    }
  }
}

// A NaN weight code (e4m3 0x7F / 0xFF) makes its row's output NaN and no other on every ISA,
// decode and prefill: the AVX-512 decode converts fp8 codes through f16, where those codes are
// finite, and patches them only when a block holds one.
TEST(QuantMatmulFp8, NanCodeReachesOnlyItsRow) {
  const int64_t rows = 9, cols = 512;
  QWeights w = quantize_weights(QuantType::kFp8, rows, cols, gaussian(rows * cols, 0.05f, 21));
  const size_t row_bytes = quant_row_bytes(QuantType::kFp8, cols);
  w.bytes[2 * row_bytes + 4 + 37] = 0x7F;         // row 2, block 0, code 37
  w.bytes[6 * row_bytes + 132 + 4 + 100] = 0xFF;  // row 6, block 1, code 100
  ThreadPool pool(2);
  for (IsaLevel isa : host_levels()) {
    IsaCapGuard cap(isa);
    for (int64_t m : {1, 3, 40}) {
      const auto x = gaussian(m * cols, 1.f, 22);
      std::vector<float> y(m * rows, 0.f);
      matmul(w.matrix(), x.data(), m, y.data(), pool);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t r = 0; r < rows; ++r)
          EXPECT_EQ(std::isnan(y[i * rows + r]), r == 2 || r == 6)
              << isa_name(isa) << " m " << m << " row " << r;
    }
  }
}

// Every finite e4m3 code, zeros and subnormals included, in either half of a block, decodes as
// the reference does on every path (the AVX-512 GEMV converts blocks whose 128 codes are all
// normal by a shorter route than the rest). Rows mix small normal codes with subnormal ones so
// that a misread subnormal or zero moves the row's result well past the bound.
TEST(QuantMatmulFp8, EveryFiniteCodeInEitherHalfOfABlock) {
  const int64_t rows = 6, cols = 256;
  QWeights w = quantize_weights(QuantType::kFp8, rows, cols, gaussian(rows * cols, 0.05f, 31));
  const size_t row_bytes = quant_row_bytes(QuantType::kFp8, cols);
  std::mt19937 rng(32);
  // zeros and subnormals; the smallest normals; all finite; all normal
  std::vector<uint8_t> sub, small, all, normal;
  for (int c = 0; c < 256; ++c) {
    const int e = (c >> 3) & 0xF;
    if (e == 0) sub.push_back(static_cast<uint8_t>(c));
    if (e != 0 && (c & 0x7F) != 0x7F) normal.push_back(static_cast<uint8_t>(c));
    if (e == 1 || e == 2) small.push_back(static_cast<uint8_t>(c));
    if ((c & 0x7F) != 0x7F) all.push_back(static_cast<uint8_t>(c));
  }
  all.push_back(0x00);
  all.push_back(0x80);  // 256 codes: two blocks' worth
  std::shuffle(all.begin(), all.end(), rng);
  std::shuffle(normal.begin(), normal.end(), rng);
  const auto pick = [&](const std::vector<uint8_t>& from) { return from[rng() % from.size()]; };
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k) {
      const int64_t half = (k % 128) / 64;  // which half of its block
      uint8_t c = 0;
      switch (r) {
        case 0: c = pick(sub); break;                      // subnormals only
        case 1: c = pick(half == 0 ? small : sub); break;  // subnormals in the second half
        case 2: c = pick(half == 0 ? sub : small); break;  // in the first half
        case 3: c = all[k]; break;                         // every code
        case 4: c = k == 30 ? 0x80 : k == 228 ? 0x00 : pick(small); break;  // one zero each
        default: c = normal[k % normal.size()]; break;  // every normal code: the fast route
      }
      w.bytes[r * row_bytes + (k / 128) * 132 + 4 + k % 128] = c;
    }
  ThreadPool pool(2);
  MatmulPrecisionScope exact(MatmulPrecision::kExact);
  const ErrorBound& bound = bound_for(QuantType::kFp8);
  for (IsaLevel isa : host_levels()) {
    IsaCapGuard cap(isa);
    for (int64_t m : {1, 3, 40}) {
      const auto x = gaussian(m * cols, 1.f, 33);
      std::vector<float> ref(m * rows);
      matmul_reference(w.matrix(), x.data(), m, ref.data());
      const Err e = matmul_against_reference(w, x, m, ref, pool);
      EXPECT_LE(e.cond, m <= 4 ? bound.gemv_cond : bound.gemm_cond) << isa_name(isa) << " m " << m;
    }
  }
}

// The AVX-512 conversion of row-group matrices back to rows (what prefill runs before its GEMM)
// gives the bytes of quant/layout's scalar unpack_row_groups, for every type with a row-group
// layout: random bytes (every field value), one and three groups, field arrays of fewer and
// more than 16 words.
TEST(RowGroupUnpack, Avx512GivesTheScalarBytes) {
  if (detected_isa() < IsaLevel::kAvx512) GTEST_SKIP() << "no AVX-512 on this host";
  const auto fast = kernels::quant_kernels_avx512().unpack_groups;
  ASSERT_NE(fast, nullptr);
  std::mt19937 rng(5);
  int checked = 0;
  for (const auto& info : all_quant_types()) {
    if (!row_groups_defined(info.type)) continue;
    for (int64_t rows : {16, 48})
      for (int64_t blocks : {1, 3}) {
        const int64_t cols = blocks * info.block_size;
        const size_t bytes = rows * quant_row_bytes(info.type, cols);
        std::vector<uint8_t> grouped(bytes), want(bytes, 0xAB), got(bytes, 0xCD);
        for (auto& b : grouped) b = static_cast<uint8_t>(rng());
        unpack_row_groups(info.type, grouped.data(), want.data(), rows, cols);
        fast(info.type, grouped.data(), got.data(), rows, cols);
        EXPECT_EQ(want, got) << info.name << " rows " << rows << " cols " << cols;
        ++checked;
      }
  }
  EXPECT_GE(checked, 4 * 10);  // q4_0 q4_1 q5_0 q5_1 q8_0 q2k..q6k, 4 shapes each
}

INSTANTIATE_TEST_SUITE_P(AllQuantTypes, QuantMatmulTest, ::testing::ValuesIn(quant_types()),
                         [](const auto& info) { return std::string(quant_info(info.param).name); });

}  // namespace
}  // namespace insitu
