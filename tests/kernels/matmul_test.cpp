// Parity of every dense matmul path (each ISA level the host supports, forced with
// set_isa_cap) against matmul_reference (double accumulation of the exact f32 products).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/half.h"
#include "kernels/matmul.h"
#include "kernels/matmul_precision.h"

namespace insitu {
namespace {

// THE tolerance table. elem bounds |y - ref| / sum_c |x_c * w_c| per output element (immune
// to cancellation); l2 bounds the relative L2 error of the whole output. denormal_floor adds
// denormal_floor * 2^-126 * (sum_c |w_c| + sum_c |x_c|) to the element bound.
struct Tolerance {
  const char* path;
  double elem;  // f32 rounding of chains of up to ~260 products: ~K * 2^-24 worst case
  double l2;
  double denormal_floor;
};
constexpr Tolerance kTolerances[] = {
    // f32 products accumulated in f32 (scalar, AVX2, AVX-512 GEMV and FMA GEMM).
    {"f32-accumulate", 1e-5, 1e-6, 0.0},
    // AMX, bf16 weights (exact): activations split x = x_hi + x_lo, both bf16 (8 significant
    // bits each, round to nearest), leaving a residual <= 2^-16 |x| = 1.5e-5 |x| per product,
    // plus f32 accumulation in the tiles. AMX reads bf16 denormals as zero (x_lo is denormal
    // once |x| < 2^-118), hence the denormal floor.
    {"amx-split-bf16/bf16", 2.5e-5, 1e-5, 4.0},
    // AMX, f16/f32 weights split the same way: adds the dropped w_lo * x_lo (<= 2^-16 |w x|)
    // and, for f32 weights only, the weight residual (<= 2^-16 |w|).
    {"amx-split-bf16/f16-f32", 5.5e-5, 1e-5, 4.0},
};
const Tolerance& tolerance_for(IsaLevel isa, QuantType type, int64_t m) {
  if (isa != IsaLevel::kAmx || m <= 4) return kTolerances[0];
  return type == QuantType::kBF16 ? kTolerances[1] : kTolerances[2];
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

// Weights stored in `type`; `values` holds what they decode to (exact).
struct TestWeights {
  QuantType type;
  int64_t rows, cols;
  std::vector<uint8_t> bytes;
  std::vector<float> values;
  WeightMatrix matrix() const { return {type, rows, cols, bytes.data()}; }
};

TestWeights make_weights(QuantType type, int64_t rows, int64_t cols,
                         const std::vector<float>& src) {
  TestWeights w{type, rows, cols, {}, {}};
  const size_t n = rows * cols;
  w.values.resize(n);
  if (type == QuantType::kF32) {
    w.bytes.resize(n * 4);
    std::memcpy(w.bytes.data(), src.data(), n * 4);
    w.values = src;
  } else {
    w.bytes.resize(n * 2);
    auto* h = reinterpret_cast<uint16_t*>(w.bytes.data());
    for (size_t i = 0; i < n; ++i) {
      h[i] = type == QuantType::kF16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
      w.values[i] = type == QuantType::kF16 ? f16_to_f32(h[i]) : bf16_to_f32(h[i]);
    }
  }
  return w;
}

std::vector<float> random_values(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng) * scale;
  return v;
}

// Checks matmul against matmul_reference at every host ISA level.
void check_all_levels(const TestWeights& w, const std::vector<float>& x, int64_t m,
                      ThreadPool& pool, const std::string& what) {
  const WeightMatrix wm = w.matrix();
  std::vector<float> ref(m * w.rows);
  matmul_reference(wm, x.data(), m, ref.data());
  // Condition of each output: sum |x w| (and the denormal-floor magnitudes).
  std::vector<double> abs_sum(m * w.rows), mag_sum(m * w.rows);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < w.rows; ++r) {
      double s = 0, g = 0;
      for (int64_t c = 0; c < w.cols; ++c) {
        const double xv = x[i * w.cols + c], wv = w.values[r * w.cols + c];
        s += std::fabs(xv * wv);
        g += std::fabs(xv) + std::fabs(wv);
      }
      abs_sum[i * w.rows + r] = s;
      mag_sum[i * w.rows + r] = g;
    }
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    const Tolerance& tol = tolerance_for(level, w.type, m);
    std::vector<float> y(m * w.rows, std::nanf(""));
    matmul(wm, x.data(), m, y.data(), pool);
    double err2 = 0, ref2 = 0;
    int bad = 0;
    for (size_t k = 0; k < y.size(); ++k) {
      const double e = std::fabs(static_cast<double>(y[k]) - ref[k]);
      const double bound =
          tol.elem * abs_sum[k] + tol.denormal_floor * std::ldexp(1.0, -126) * mag_sum[k];
      if (!(e <= bound) && bad++ < 5)
        ADD_FAILURE() << what << " isa=" << isa_name(level) << " path=" << tol.path
                      << " kernel=" << matmul_kernel_name(w.type, m) << " element " << k
                      << " (i=" << k / w.rows << ", r=" << k % w.rows << "): got " << y[k]
                      << " want " << ref[k] << " |err|=" << e << " bound=" << bound;
      err2 += e * e;
      ref2 += static_cast<double>(ref[k]) * ref[k];
    }
    // Relative L2 is a statistical measure: with a handful of outputs one cancelling dot
    // product dominates it, and the per-element bound above is the meaningful check.
    if (ref2 > 0 && y.size() >= 64) {
      EXPECT_LE(std::sqrt(err2 / ref2), tol.l2)
          << what << " isa=" << isa_name(level) << " path=" << tol.path;
    } else if (ref2 == 0) {
      EXPECT_EQ(err2, 0.0) << what << " isa=" << isa_name(level);
    }
  }
}

constexpr QuantType kDenseTypes[] = {QuantType::kF32, QuantType::kF16, QuantType::kBF16};

std::string shape_name(QuantType t, int64_t rows, int64_t cols, int64_t m) {
  return std::string(quant_info(t).name) + " rows=" + std::to_string(rows) +
         " cols=" + std::to_string(cols) + " m=" + std::to_string(m);
}

TEST(Matmul, ParityAllPathsShapesWithRemainders) {
  ThreadPool pool(2);
  const int64_t kRows[] = {1, 3, 17, 33, 100, 257};
  const int64_t kCols[] = {1, 3, 17, 33, 100, 257};
  const int64_t kMs[] = {1, 2, 3, 5, 16, 31, 64, 100};
  uint32_t seed = 1;
  for (QuantType t : kDenseTypes)
    for (int64_t rows : kRows)
      for (int64_t cols : kCols) {
        const TestWeights w = make_weights(t, rows, cols, random_values(rows * cols, 1.f, seed++));
        for (int64_t m : kMs) {
          const auto x = random_values(m * cols, 2.f, seed++);
          check_all_levels(w, x, m, pool, shape_name(t, rows, cols, m));
        }
      }
}

TEST(Matmul, ParityLargeShapesAndThreadSplits) {
  // Beyond one staging/register block in every dimension (AMX stages 256 rows x 512 cols),
  // with pools whose row chunks do not align to the kernel blocks.
  const int64_t kShapes[][3] = {{600, 1100, 1}, {600, 1100, 70}, {97, 2080, 37}, {513, 64, 33}};
  uint32_t seed = 1000;
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (QuantType t : kDenseTypes)
      for (const auto& s : kShapes) {
        const TestWeights w = make_weights(t, s[0], s[1], random_values(s[0] * s[1], 0.5f, seed++));
        const auto x = random_values(s[2] * s[1], 3.f, seed++);
        check_all_levels(w, x, s[2], pool,
                         shape_name(t, s[0], s[1], s[2]) + " threads=" + std::to_string(threads));
      }
  }
}

TEST(Matmul, ZerosGiveExactZeros) {
  ThreadPool pool(2);
  for (QuantType t : kDenseTypes)
    for (int64_t m : {1, 7, 40}) {
      const TestWeights w = make_weights(t, 45, 70, random_values(45 * 70, 1.f, 7));
      const std::vector<float> x(m * 70, 0.f);
      for (IsaLevel level : host_levels()) {
        IsaCapGuard guard(level);
        std::vector<float> y(m * 45, 1.f);
        matmul(w.matrix(), x.data(), m, y.data(), pool);
        for (float v : y) ASSERT_EQ(v, 0.f) << shape_name(t, 45, 70, m) << " " << isa_name(level);
      }
    }
}

TEST(Matmul, LargeMagnitudes) {
  ThreadPool pool(2);
  uint32_t seed = 77;
  for (QuantType t : kDenseTypes) {
    // Products up to ~1e34 (f16 weights top out at 65504): far from f32 overflow after
    // summing, but far outside the range where absolute error floors would hide mistakes.
    const float wscale = t == QuantType::kF16 ? 6e4f : 1e17f;
    const TestWeights w = make_weights(t, 40, 130, random_values(40 * 130, wscale, seed++));
    for (int64_t m : {1, 3, 9, 33}) {
      const auto x = random_values(m * 130, 1e16f, seed++);
      check_all_levels(w, x, m, pool, "large " + shape_name(t, 40, 130, m));
    }
  }
}

TEST(Matmul, Denormals) {
  ThreadPool pool(2);
  uint32_t seed = 99;
  for (QuantType t : kDenseTypes) {
    auto wv = random_values(40 * 130, 1.f, seed++);
    // Every third weight tiny: f32/bf16 denormals (f16 turns them into zeros or f16 denormals).
    for (size_t i = 0; i < wv.size(); i += 3) wv[i] = t == QuantType::kF16 ? wv[i] * 1e-6f : wv[i] * 1e-39f;
    const TestWeights w = make_weights(t, 40, 130, wv);
    for (int64_t m : {1, 2, 6, 40}) {
      auto x = random_values(m * 130, 1.f, seed++);
      for (size_t i = 0; i < x.size(); i += 2) x[i] *= 1e-39f;  // f32 denormal activations
      check_all_levels(w, x, m, pool, "denormal " + shape_name(t, 40, 130, m));
      // All-denormal activations: outputs are tiny but FMA paths must still be exact-ish.
      for (auto& e : x) e = std::ldexp(e == 0 ? 1.f : e, -10) * 1e-30f;
      check_all_levels(w, x, m, pool, "all-tiny " + shape_name(t, 40, 130, m));
    }
  }
}

TEST(Matmul, DegenerateShapes) {
  ThreadPool pool(2);
  const TestWeights w = make_weights(QuantType::kBF16, 5, 0, {});
  std::vector<float> y(3 * 5, 1.f);
  const float x = 0.f;
  matmul(w.matrix(), &x, 3, y.data(), pool);
  for (float v : y) EXPECT_EQ(v, 0.f);
}

TEST(Matmul, QuantizedTypesUseRegistryDequantizer) {
  // matmul() routes quantized types to the quantized kernels; under exact precision they must
  // equal the reference built on the same registry dequantizer (every type, ISA and rounded
  // mode: quant_matmul_test.cpp).
  ThreadPool pool(2);
  MatmulPrecisionScope exact(MatmulPrecision::kExact);
  const int64_t rows = 9, cols = 256, m = 3;
  const auto src = random_values(rows * cols, 1.f, 5);
  std::vector<uint8_t> bytes(rows * quant_row_bytes(QuantType::kQ8_0, cols));
  quantize_rows(QuantType::kQ8_0, src.data(), bytes.data(), rows, cols, nullptr, nullptr);
  const WeightMatrix w{QuantType::kQ8_0, rows, cols, bytes.data()};
  const auto x = random_values(m * cols, 1.f, 6);
  std::vector<float> ref(m * rows), y(m * rows);
  matmul_reference(w, x.data(), m, ref.data());
  matmul(w, x.data(), m, y.data(), pool);
  for (size_t k = 0; k < y.size(); ++k) EXPECT_NEAR(y[k], ref[k], 1e-4 * (1 + std::fabs(ref[k])));
}

}  // namespace
}  // namespace insitu
