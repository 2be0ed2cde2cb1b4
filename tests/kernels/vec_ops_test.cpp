// Every vector primitive at every host ISA level (forced with set_isa_cap) against
// double-precision references, over lengths with vector remainders and special values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/vec_ops.h"

namespace insitu {
namespace {

// THE tolerance table: maximum |got - ref| / scale, where scale is named per op.
struct VecTolerance {
  const char* op;
  double rel;
};
constexpr VecTolerance kVecTolerances[] = {
    {"dot", 2e-6},       // scale: sum |a_i b_i| (f32 accumulation over n <= 1000)
    {"axpy", 1.2e-7},    // scale: |y| + |a x|; one fused rounding (2^-23)
    {"scale", 0.0},      // one f32 multiply: exact match with the f32 product
    {"add", 0.0},        // one f32 add: exact match
    {"rmsnorm", 1e-6},   // scale: |ref|; a few roundings after a double-accumulated norm
    {"softmax", 1e-6},   // scale: |ref|; exp within ~2 ulp + double sum + one division
    {"silu_mul", 1e-6},  // scale: |ref|
    {"gelu_tanh_mul", 1e-6},  // scale: |ref|
};
double tol(const std::string& op) {
  for (const auto& t : kVecTolerances)
    if (op == t.op) return t.rel;
  ADD_FAILURE() << "no tolerance for " << op;
  return 0;
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

constexpr int64_t kLengths[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257, 1000};

std::vector<float> random_values(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

void expect_close(const std::string& op, IsaLevel level, int64_t n, int64_t i, double got,
                  double ref, double scale) {
  const double bound = tol(op) * scale;
  EXPECT_LE(std::fabs(got - ref), bound)
      << op << " isa=" << isa_name(level) << " n=" << n << " i=" << i << " got=" << got
      << " ref=" << ref;
}

TEST(VecOps, DotAxpyScaleAdd) {
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    for (int64_t n : kLengths) {
      const auto a = random_values(n, -2.f, 2.f, 1 + n), b = random_values(n, -2.f, 2.f, 2 + n);
      double ref = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        ref += static_cast<double>(a[i]) * b[i];
        mag += std::fabs(static_cast<double>(a[i]) * b[i]);
      }
      expect_close("dot", level, n, -1, dot_f32(a.data(), b.data(), n), ref, mag);

      auto y = b;
      axpy_f32(0.37f, a.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i)
        expect_close("axpy", level, n, i, y[i], b[i] + 0.37 * a[i],
                     std::fabs(b[i]) + std::fabs(0.37 * a[i]));

      auto s = a;
      scale_f32(s.data(), -1.7f, n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(s[i], a[i] * -1.7f) << isa_name(level) << " n=" << n;

      std::vector<float> out(n);
      add_f32(a.data(), b.data(), out.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], a[i] + b[i]) << isa_name(level);
      auto alias = a;  // out aliasing an input
      add_f32(alias.data(), b.data(), alias.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(alias[i], a[i] + b[i]) << isa_name(level);
    }
  }
}

TEST(VecOps, RmsNorm) {
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    for (int64_t n : kLengths) {
      if (n == 0) continue;
      for (float offset : {0.f, 1.f}) {
        for (float mag : {1.f, 1e-20f, 1e15f}) {  // tiny and huge rows: no under/overflow
          const auto x = random_values(n, -mag, mag, 3 + n);
          const auto w = random_values(n, -1.f, 1.f, 4 + n);
          std::vector<float> out(n);
          rmsnorm_f32(x.data(), w.data(), 1e-6f, offset, out.data(), n);
          double ss = 0;
          for (float v : x) ss += static_cast<double>(v) * v;
          const double inv = 1.0 / std::sqrt(ss / n + static_cast<double>(1e-6f));
          for (int64_t i = 0; i < n; ++i) {
            const double ref = x[i] * inv * (offset + static_cast<double>(w[i]));
            expect_close("rmsnorm", level, n, i, out[i], ref, std::fabs(ref) + 1e-30);
          }
        }
      }
    }
  }
}

TEST(VecOps, Softmax) {
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    for (int64_t n : kLengths) {
      if (n == 0) continue;
      for (float range : {1.f, 30.f, 200.f}) {  // 200: many exp() underflow to 0/denormal
        const auto x = random_values(n, -range, range, 5 + n);
        auto y = x;
        softmax_f32(y.data(), n);
        double mx = -INFINITY, sum = 0;
        for (float v : x) mx = std::max<double>(mx, v);
        // The shift x - max is an f32 subtraction in every implementation (its rounding is
        // part of the definition, ~2^-24 |x - max| absolute); the rest is exact here.
        auto shifted = [&](float v) { return static_cast<double>(v - static_cast<float>(mx)); };
        for (float v : x) sum += std::exp(shifted(v));
        for (int64_t i = 0; i < n; ++i) {
          const double ref = std::exp(shifted(x[i])) / sum;
          // Values below f32's normal range carry an absolute floor of FLT_MIN.
          expect_close("softmax", level, n, i, y[i], ref,
                       std::fabs(ref) + std::numeric_limits<float>::min() / tol("softmax"));
        }
      }
    }
  }
}

double silu_ref(double g) { return g / (1 + std::exp(-g)); }
// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g * sigmoid(2u), u = sqrt(2/pi) (g + 0.044715 g^3).
// The sigmoid form is used because 1 + tanh(u) cancels catastrophically in double for g < -5.
double gelu_u(double g) { return 0.7978845608028654 * (g + 0.044715 * g * g * g); }
double gelu_ref(double g) { return g / (1 + std::exp(-2 * gelu_u(g))); }
// f32 implementations round u itself (a few ulps); sigmoid(2u) amplifies a relative error d
// of u into 2|u| (1 - sigmoid(2u)) d of the result. This is that bound for d = 4 * 2^-24.
double gelu_argument_error(double g) {
  const double u = gelu_u(g);
  return 2 * std::fabs(u) * (1 - 1 / (1 + std::exp(-2 * u))) * 4 * std::ldexp(1.0, -24);
}

std::vector<float> activation_inputs(int64_t n, uint32_t seed) {
  auto g = random_values(n, -12.f, 12.f, seed);
  // Special values in the first lanes: signed zeros, exp overflow/underflow, tiny inputs.
  const float specials[] = {0.f, -0.f, 1e-30f, -1e-30f, 88.f, -88.f, 100.f, -100.f, 3e-3f, -5e-4f};
  for (int64_t i = 0; i < n && i < 10; ++i) g[i] = specials[i];
  return g;
}

TEST(VecOps, SiluAndGeluMul) {
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    for (int64_t n : kLengths) {
      const auto g = activation_inputs(n, 6 + n);
      const auto up = random_values(n, -3.f, 3.f, 7 + n);
      auto s = g;
      silu_mul_f32(s.data(), up.data(), n);
      auto e = g;
      gelu_tanh_mul_f32(e.data(), up.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double rs = silu_ref(g[i]) * up[i], re = gelu_ref(g[i]) * up[i];
        // Absolute floor: once exp() in the sigmoid denominator overflows f32 (results below
        // |g * up| / FLT_MAX) the result is flushed to zero; below FLT_MIN it is denormal.
        const double floor = 2 * std::fabs(static_cast<double>(g[i]) * up[i]) /
                                 std::numeric_limits<float>::max() +
                             std::numeric_limits<float>::min();
        expect_close("silu_mul", level, n, i, s[i], rs, std::fabs(rs) + floor / tol("silu_mul"));
        expect_close("gelu_tanh_mul", level, n, i, e[i], re,
                     std::fabs(re) * (1 + gelu_argument_error(g[i]) / tol("gelu_tanh_mul")) +
                         floor / tol("gelu_tanh_mul"));
      }
    }
  }
}

TEST(VecOps, NanPropagates) {
  for (IsaLevel level : host_levels()) {
    IsaCapGuard guard(level);
    std::vector<float> g(20, 1.f), up(20, 1.f);
    g[17] = std::nanf("");
    silu_mul_f32(g.data(), up.data(), 20);
    EXPECT_TRUE(std::isnan(g[17])) << isa_name(level);
    EXPECT_FALSE(std::isnan(g[16])) << isa_name(level);
  }
}

}  // namespace
}  // namespace insitu
