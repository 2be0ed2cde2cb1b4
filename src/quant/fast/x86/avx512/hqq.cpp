// HQQ row quantizers (quant/hqq/hqq.cpp): 16 groups of 64 in the 16 lanes, each lane running the
// reference's min/max initialisation, proximal iterations (early stop per lane as a mask) and
// final rounding in the reference's operation order; the zero's double sum stays a double sum.
//
// The shrinkage |e|^(p-1) / beta calls std::pow, which has no vector twin with the same bits.
// It only matters where the shrunk error is positive: for |e| below a threshold T(beta) the
// reference's result is provably 0 (see shrink_zero_below), and there the lanes take 0 without
// any pow. The few elements at or above T (outliers, NaN, inf) call the reference's own
// hqq::shrink_lp, one lane at a time.
#include "quant/hqq/hqq.h"

#include <cmath>
#include <cstring>

#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {
namespace {

constexpr int kG = hqq::kGroup;

// A float T with: 0 <= a < T implies hqq::shrink_lp(+-a, beta, p) == 0.
// shrink_lp returns 0 when fl(a - m) <= 0, i.e. when a <= m, for m = fl(c * P), c = fl(1 / beta),
// P = powf(a, y), y = fl(p - 1) < 0. A libm powf within k ulp gives P >= a^y (1 - k 2^-23),
// and m >= c P (1 - 2^-24), so a^(1 - y) <= c (1 - 1e-5) is enough for any k up to ~80
// (glibc: < 1). Then a <= (c (1 - 1e-5))^(1 / (1 - y)), computed in double and shrunk by a
// further 1e-6 so that the double pow and the conversion to float cannot round above it.
float shrink_zero_below(float beta, float p) {
  const double c = static_cast<double>(1.f / beta);
  const double y = static_cast<double>(p - 1.f);
  const double t = std::pow(c * (1.0 - 1e-5), 1.0 / (1.0 - y)) * (1.0 - 1e-6);
  return static_cast<float>(t);
}

// std::clamp(std::round(w * scale + zero), 0.f, max_v), NaN passing through as in std::clamp.
inline V quant_level(V w, V scale, V zero, V max_v) {
  const V r = round_half_away(add(mul(w, scale), zero));
  const V hi = select(lt(max_v, r), r, max_v);
  return select(lt(r, vzero()), hi, vzero());
}

// init_group: min/max as std::min/std::max chains from w[0] (NaN after w[0] never taken).
inline void init_group(const V* w, V max_v, V* scale, V* zero) {
  V mn = w[0], mx = w[0];
  for (int i = 1; i < kG; ++i) {
    mn = select(lt(w[i], mn), mn, w[i]);
    mx = select(lt(mx, w[i]), mx, w[i]);
  }
  // std::clamp(max_v / (mx - mn), 0.f, 2e4f)
  const V s = div(max_v, sub(mx, mn));
  const V lim = splat(2e4f);
  const V hi = select(lt(lim, s), s, lim);
  *scale = select(lt(s, vzero()), hi, vzero());
  *zero = mul(neg(mn), *scale);
}

// Lanes where the vector shortcut does not hold: hqq::shrink_lp itself, lane by lane.
inline V shrink_slow(V e, M slow, float beta, float p) {
  alignas(64) float v[16];
  _mm512_store_ps(v, e);
  for (uint32_t m = slow; m != 0; m &= m - 1) {
    const int j = __builtin_ctz(m);
    v[j] = hqq::shrink_lp(v[j], beta, p);
  }
  return _mm512_mask_blend_ps(slow, vzero(), _mm512_load_ps(v));
}

// prox_step: returns sum |w - w_r| per lane and the new zero in *new_zero.
inline V prox_step(const V* w, V scale, V zero, V max_v, float beta, float p, V* new_zero) {
  const V thr = splat(shrink_zero_below(beta, p));
  __m512d zlo = _mm512_setzero_pd(), zhi = _mm512_setzero_pd();
  V err = vzero();
  for (int i = 0; i < kG; ++i) {
    const V x = w[i];
    const V wq = quant_level(x, scale, zero, max_v);
    const V wr = div(sub(wq, zero), scale);
    const V e = sub(x, wr);
    // Not (|e| < thr): at or above the threshold, inf or NaN.
    const M slow = _mm512_cmp_ps_mask(vabs(e), thr, _CMP_NLT_UQ);
    const V we = slow ? shrink_slow(e, slow, beta, p) : vzero();
    const V term = sub(wq, mul(sub(x, we), scale));
    zlo = _mm512_add_pd(zlo, _mm512_cvtps_pd(_mm512_castps512_ps256(term)));
    zhi = _mm512_add_pd(
        zhi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(term), 1))));
    err = add(err, vabs(sub(x, wr)));
  }
  const __m512d n = _mm512_set1_pd(static_cast<double>(kG));
  const __m256 lo = _mm512_cvtpd_ps(_mm512_div_pd(zlo, n)),
               hi = _mm512_cvtpd_ps(_mm512_div_pd(zhi, n));
  *new_zero = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  return err;
}

inline V group_l1(const V* w, V scale, V zero, V max_v) {
  V err = vzero();
  for (int i = 0; i < kG; ++i)
    err = add(err, vabs(sub(w[i], div(sub(quant_level(w[i], scale, zero, max_v), zero), scale))));
  return err;
}

// optimize_group for 16 lanes: a lane stops (its mask bit clears) at its first iteration whose
// error is not below its best; the final zero is the reference's choice per lane.
inline void optimize_groups(const V* w, V max_v, V* scale_out, V* zero_out) {
  V scale, zero;
  init_group(w, max_v, &scale, &zero);
  const hqq::OptParams opt;
  V best = splat(1e30f), best_zero = zero;
  float beta = opt.beta;
  M active = 0xFFFF;
  for (int it = 0; it < opt.iters && active; ++it) {
    const V before = zero;
    V next;
    const V err = prox_step(w, scale, zero, max_v, beta, opt.lp_norm, &next);
    beta *= opt.kappa;
    const M better = active & lt(err, best);
    best = select(better, best, err);
    best_zero = select(better, best_zero, before);
    zero = select(active, zero, next);
    active = better;
  }
  // Lanes that never stopped keep their last zero if it beats their best.
  const M keep = active & lt(group_l1(w, scale, zero, max_v), best);
  *scale_out = scale;
  *zero_out = select(keep, best_zero, zero);
}

template <int kBits>
void quantize_hqq(const float* x, void* out, int64_t n) {
  constexpr int kCodeBytes = kG * kBits / 8;
  constexpr int kBlockBytes = 8 + kCodeBytes;
  const V max_v = splat(static_cast<float>((1 << kBits) - 1));
  auto* p = static_cast<uint8_t*>(out);
  const int64_t groups = n / kG;
  V w[kG], L[kG];
  alignas(64) float scale_v[16], zero_v[16];
  alignas(64) uint8_t lv[2][16 * 32];  // levels of the two halves, 32 per lane
  for (int64_t g0 = 0; g0 < groups; g0 += 16) {
    const int lanes = groups - g0 >= 16 ? 16 : static_cast<int>(groups - g0);
    load_lanes(x + g0 * kG, kG, lanes, w);
    V scale, zero;
    optimize_groups(w, max_v, &scale, &zero);
    for (int i = 0; i < kG; ++i) L[i] = quant_level(w[i], scale, zero, max_v);
    // (uint8_t) of each level: the low byte of its truncation (NaN -> 0, as the scalar cast).
    scatter_levels(L, 32, lanes, lv[0]);
    scatter_levels(L + 32, 32, lanes, lv[1]);
    _mm512_store_ps(scale_v, div(splat(1.f), scale));
    _mm512_store_ps(zero_v, zero);
    for (int k = 0; k < lanes; ++k, p += kBlockBytes) {
      std::memcpy(p, &scale_v[k], 4);
      std::memcpy(p + 4, &zero_v[k], 4);
      const uint8_t* a = lv[0] + 32 * k;
      const uint8_t* b = lv[1] + 32 * k;
      if constexpr (kBits == 8) {
        std::memcpy(p + 8, a, 32);
        std::memcpy(p + 40, b, 32);
      } else {
        // byte k = q[k] << 4 | q[k + 32]; levels <= 15.
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 8),
                            _mm256_or_si256(_mm256_slli_epi16(hi, 4), lo));
      }
    }
  }
}

}  // namespace

void quantize_hqq4(const float* x, void* out, int64_t n, const float* /*importance*/) {
  quantize_hqq<4>(x, out, n);
}

void quantize_hqq8(const float* x, void* out, int64_t n, const float* /*importance*/) {
  quantize_hqq<8>(x, out, n);
}

}  // namespace insitu::fastq::avx512
