// Attention loops (kernels/attention.h) against double references on every ISA level the host
// supports: head dims with and without a 16-multiple, 1..5 query heads per kv head (decode) and
// 8..64 query rows (prefill's token blocks, the transposed-key scores, with a row remainder),
// cache lengths around the 16-row blocks, rows strided as in the KV cache.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/cpu_features.h"

namespace insitu {
namespace {

class IsaCapGuard {
 public:
  explicit IsaCapGuard(IsaLevel l) : prev_(set_isa_cap(l)) {}
  ~IsaCapGuard() { set_isa_cap(prev_); }

 private:
  IsaLevel prev_;
};

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& f : v) f = d(rng);
  return v;
}

// Any f32 summation order of L products is within (L + 1) * u * sum|products| of the exact
// value (u = 2^-24, the unit roundoff): the classic worst-case bound, no tuning.
constexpr double kU = 1.0 / (1 << 24);

TEST(AttentionTest, ScoresAndValuesMatchDoubleReference) {
  uint32_t seed = 1;
  for (int l = 0; l <= static_cast<int>(detected_isa()); ++l) {
    IsaCapGuard cap(static_cast<IsaLevel>(l));
    for (int64_t hd : {16, 64, 80, 128, 256}) {
      for (int64_t nq : {1, 2, 3, 4, 5, 8, 13, 64}) {
        for (int64_t n : {1, 15, 16, 17, 40}) {
          const int64_t stride = 3 * hd + 16;  // another kv head's columns sit in between
          const auto q = gaussian(nq * hd, ++seed);
          const auto k = gaussian(n * stride, ++seed);
          const auto v = gaussian(n * stride, ++seed);
          const int64_t p_stride = n + nq % 3;  // rows further apart than n, as in a token block
          const auto p = gaussian(nq * p_stride, ++seed);
          std::vector<float> s(nq * n, NAN), out(nq * hd, NAN);
          attention_scores_f32(q.data(), nq, hd, k.data(), stride, n, s.data());
          attention_values_f32(p.data(), p_stride, nq, hd, v.data(), stride, n, out.data());
          for (int64_t g = 0; g < nq; ++g) {
            for (int64_t j = 0; j < n; ++j) {
              double want = 0, mag = 0;
              for (int64_t c = 0; c < hd; ++c) {
                want += double(q[g * hd + c]) * k[j * stride + c];
                mag += std::fabs(double(q[g * hd + c]) * k[j * stride + c]);
              }
              EXPECT_NEAR(s[g * n + j], want, (hd + 1) * kU * mag)
                  << "isa " << l << " hd " << hd << " nq " << nq << " n " << n;
            }
            for (int64_t c = 0; c < hd; ++c) {
              double want = 0, mag = 0;
              for (int64_t j = 0; j < n; ++j) {
                want += double(p[g * p_stride + j]) * v[j * stride + c];
                mag += std::fabs(double(p[g * p_stride + j]) * v[j * stride + c]);
              }
              EXPECT_NEAR(out[g * hd + c], want, (n + 1) * kU * mag)
                  << "isa " << l << " hd " << hd << " nq " << nq << " n " << n;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace insitu
