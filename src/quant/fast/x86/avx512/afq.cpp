// AFQ row quantizers (quant/afq/afq.cpp, group 64): a group's 64 elements in four vectors.
// The reference's min/max chains keep the first element equal to the extreme (which matters
// only for the sign of a zero) and never take a NaN after their start, so a reduction over the
// NaN-masked values finds the extreme and the first equal element supplies its bits; the rest
// of (scale, bias) is the reference's afq::params_from_range. Levels are
// std::clamp(std::round((x - b) / s), 0, 2^bits - 1) per lane, cast as the scalar cast does
// (low byte of the truncation), and the bit stream is pext of 8 codes at a time.
#include "quant/afq/afq.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/half.h"
#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {
namespace {

constexpr int kG = afq::kDefaultGroup;
constexpr float kInf = std::numeric_limits<float>::infinity();

inline V nan_to(V v, float r) {
  return _mm512_mask_blend_ps(unordered(v), v, splat(r));
}

// Value of the first element of the group that compares equal to v (v is one of them).
inline float first_equal(const float* xg, const V* x, float v) {
  uint64_t hits = 0;
  for (int k = 0; k < 4; ++k) hits |= static_cast<uint64_t>(eq(x[k], splat(v))) << (16 * k);
  return xg[__builtin_ctzll(hits)];
}

// mn, mx as the reference's group_params scans them.
inline void group_range(const float* xg, const V* x, afq::Method method, float* mn, float* mx) {
  V lo = nan_to(x[0], kInf), hi = nan_to(x[0], -kInf);
  for (int k = 1; k < 4; ++k) {
    lo = _mm512_min_ps(lo, nan_to(x[k], kInf));
    hi = _mm512_max_ps(hi, nan_to(x[k], -kInf));
  }
  const float l = _mm512_reduce_min_ps(lo), h = _mm512_reduce_max_ps(hi);
  if (method == afq::Method::kMinMax) {
    // Chains from x[0]: a NaN there stays; otherwise the first element equal to the extreme.
    if (std::isnan(xg[0])) {
      *mn = *mx = xg[0];
      return;
    }
    *mn = first_equal(xg, x, l);
    *mx = first_equal(xg, x, h);
    return;
  }
  // MLX: min from +inf (taken only by a smaller element), max from +0 (only by a larger one).
  *mn = l < kInf ? first_equal(xg, x, l) : kInf;
  *mx = h > 0.f ? first_equal(xg, x, h) : 0.f;
}

// std::clamp(std::round((x - b) / s), 0.f, max_v) as a code byte per lane.
inline VI level(V x, V b, V s, V max_v) {
  const V r = round_half_away(div(sub(x, b), s));
  const V c = select(lt(r, vzero()), select(lt(max_v, r), r, max_v), vzero());
  return _mm512_and_si512(trunc_i32(c), splati(0xff));
}

template <int kBits>
void quantize_afq(const float* x, void* out, int64_t n) {
  constexpr int n_bins = (1 << kBits) - 1;
  constexpr afq::Method method = afq::default_method(kBits);
  // kBits low bits of every byte: pext gathers 8 codes into the little-endian bit stream.
  constexpr uint64_t kMask = 0x0101010101010101ull * static_cast<uint64_t>(n_bins);
  auto* p = static_cast<uint8_t*>(out);
  const V max_v = splat(static_cast<float>(n_bins));
  alignas(64) uint8_t codes[kG];
  for (int64_t g = 0; g < n / kG; ++g, x += kG, p += afq::block_bytes(kBits, kG)) {
    V xv[4];
    for (int k = 0; k < 4; ++k) xv[k] = _mm512_loadu_ps(x + 16 * k);
    float mn, mx, scale, bias;
    group_range(x, xv, method, &mn, &mx);
    afq::params_from_range(mn, mx, n_bins, method, &scale, &bias);
    const uint16_t s16 = f32_to_f16(scale), b16 = f32_to_f16(bias);
    const float s = f16_to_f32(s16), b = f16_to_f32(b16);
    std::memcpy(p, &s16, 2);
    std::memcpy(p + 2, &b16, 2);
    if (s != 0.f) {
      for (int k = 0; k < 4; ++k)
        _mm_store_si128(reinterpret_cast<__m128i*>(codes + 16 * k),
                        _mm512_cvtepi32_epi8(level(xv[k], splat(b), splat(s), max_v)));
    } else {
      std::memset(codes, 0, kG);
    }
    if constexpr (kBits == 8) {
      std::memcpy(p + 4, codes, kG);
    } else {
      for (int k = 0; k < kG / 8; ++k) {
        uint64_t c;
        std::memcpy(&c, codes + 8 * k, 8);
        const uint64_t packed = _pext_u64(c, kMask);
        std::memcpy(p + 4 + kBits * k, &packed, kBits);
      }
    }
  }
}

}  // namespace

void quantize_afq2(const float* x, void* out, int64_t n, const float*) {
  quantize_afq<2>(x, out, n);
}
void quantize_afq3(const float* x, void* out, int64_t n, const float*) {
  quantize_afq<3>(x, out, n);
}
void quantize_afq4(const float* x, void* out, int64_t n, const float*) {
  quantize_afq<4>(x, out, n);
}
void quantize_afq6(const float* x, void* out, int64_t n, const float*) {
  quantize_afq<6>(x, out, n);
}
void quantize_afq8(const float* x, void* out, int64_t n, const float*) {
  quantize_afq<8>(x, out, n);
}

}  // namespace insitu::fastq::avx512
