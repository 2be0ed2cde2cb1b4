// Pieces shared by the AVX-512 VNNI GEMV kernels (quant_gemv_avx512.cpp: decode-to-buffer path
// for every type; quant_gemv_fused_avx512.cpp: register-decoding paths for the common types):
// the prepared-activation layout, the three-digit integer dot of 64 codes (one digit in
// rounded mode), the spread-out software prefetcher of the decode-to-buffer path. The arithmetic
// scheme is described at the top of quant_gemv_avx512.cpp. Include only from AVX-512 translation
// units.
#pragma once

#include <cstdint>

#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kParts = 3;
// Largest |xq|: the top digit must stay in [-127, 127] after balanced carries.
constexpr float kXMax = 8290000.f;
// Codes up to this value take the all-integer path: |sum of 4 codes * xq| < 2^31.
constexpr int kNarrowCodeMax = 63;
static_assert(4.0 * kNarrowCodeMax * kXMax < 2147483648.0, "narrow path overflows int32");
// Columns decoded per row and pass (a multiple of every block size and of 64).
constexpr int64_t kSegCols = 2048;
constexpr int64_t kSegGroups = kSegCols / 16;
// Bytes of decode buffer per row: codes, scales, offsets of one segment.
constexpr int64_t kRowBuf = kSegCols + 2 * kSegGroups * 4;
constexpr int kMaxRowBlock = 4;

inline int64_t round_up(int64_t v, int64_t a) {
  return (v + a - 1) / a * a;
}

// Balanced signed low byte of each int32 lane (in [-128, 127]): v minus it divides exactly by
// 256, so activation integers split into signed base-256 digits.
inline __m512i low_digit(__m512i v) {
  return _mm512_sub_epi32(
      _mm512_and_si512(_mm512_add_epi32(v, _mm512_set1_epi32(128)), _mm512_set1_epi32(255)),
      _mm512_set1_epi32(128));
}

// Prepared activation row layout (all offsets multiples of 64 bytes):
//   digits [K64 / 64][3][64] int8 | lane scales sx [K64 / 4] f32 |
//   zero-point corrections [K64 / 64][4][16] int32 | group sums [G16] f32
// K64 = cols rounded up to 64 (padding is zero), G16 = K64 / 16 rounded up to 16. The four
// corrections of a chunk's 16 lanes are -zero * S0, -zero * S1, -zero * S2 and
// -zero * (256 S1 + S2), S_p the lane's digit sums (the last wraps for 8-bit zero points,
// where it is unused).
struct PrepLayout {
  int64_t k64, groups, sx_off, zc_off, sum_off, stride;
  explicit PrepLayout(int64_t cols) {
    k64 = round_up(cols, 64);
    groups = round_up(k64 / 16, 16);
    sx_off = kParts * k64;
    zc_off = sx_off + k64;
    sum_off = zc_off + 4 * k64;
    stride = sum_off + groups * 4;
  }
};

// Sum of each 4-element lane of v, broadcast within the lane.
inline __m512i lane_sums(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
  return _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_BADC));
}

// Per-lane rounding of 16 activations (OperandRounding::kActivationLane8 with inv_max 1/127;
// the exact digits with 1/kXMax): s = max|x| of each 4-element lane times inv_max, broadcast
// within the lane, and q = nearbyint(x / s) (0 where s is 0).
struct LaneRounded {
  __m512 s;
  __m512i q;
};
inline LaneRounded round_lanes(__m512 v, __m512 inv_max) {
  __m512 a = _mm512_abs_ps(v);
  a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
  a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
  const __m512 s = _mm512_mul_ps(a, inv_max);
  const __mmask16 nz = _mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_GT_OQ);
  return {s, _mm512_cvtps_epi32(_mm512_maskz_div_ps(nz, v, s))};
}
// Lane scales 0, 4, 8, 12 of s (one per lane) times `factor`, to out[0..3].
inline void store_lane_scales(float* out, __m512 s, float factor = 1.f) {
  _mm_storeu_ps(out, _mm_mul_ps(_mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, s)),
                                _mm_set1_ps(factor)));
}

// Multiplies each int32 lane by 256 (mod 2^32) with a byte shuffle, which issues on port 5
// while vpdpbusd occupies port 0.
inline __m512i shl8(__m512i v) {
  const __m512i ctrl = _mm512_broadcast_i32x4(
      _mm_setr_epi32(static_cast<int>(0x020100FFu), static_cast<int>(0x060504FFu),
                     static_cast<int>(0x0A0908FFu), static_cast<int>(0x0E0D0CFFu)));
  return _mm512_shuffle_epi8(v, ctrl);
}

// vpmultishiftqb control that fills byte i (i < 4) of each dword with the 8 bits from bit
// base + i * step of that dword (the qword's high dword: 32 bits further; offsets wrap within
// the qword, so a negative base reads the other dword's top bits into the low bits of the byte).
constexpr long long dword_multishift_control(int base, int step) {
  uint64_t c = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t bit = static_cast<uint64_t>(base + i * step + 64) % 64;
    c |= bit << (8 * i) | ((bit + 32) % 64) << (8 * (i + 4));
  }
  return static_cast<long long>(c);
}

// Software prefetch spread over a loop: `bytes` bytes from `base` (R row streams, `stride`
// apart), issued evenly over `steps` steps so the requests overlap the arithmetic instead of
// stalling on full fill buffers in one burst.
struct Prefetcher {
  const uint8_t* base = nullptr;
  size_t stride = 0, bytes = 0, per_step = 0, budget = 0, done = 0;
  int rows = 0;
  void start(const uint8_t* b, size_t row_stride, int n_rows, size_t row_bytes, int64_t steps) {
    base = b;
    stride = row_stride;
    rows = n_rows;
    bytes = n_rows > 0 ? row_bytes : 0;
    per_step = steps > 0 ? (bytes + steps - 1) / steps : bytes;
    budget = 0;
    done = 0;
  }
  inline void step() {
    budget += per_step;
    for (; done < bytes && done < budget; done += 64)
      for (int j = 0; j < rows; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(base + j * stride + done), _MM_HINT_T0);
  }
};

// A zero vector made where it is used. GCC keeps one zero register and copies it before every
// vpdpbusd that accumulates into a fresh zero (a vmovdqa32 on port 0 or 5, the ports the
// kernels are bound on: 20 of the q4k GEMV loop's ~155 port-0/5 uops per llvm-mca); vpxord of a
// register with itself is a zeroing idiom the renamer resolves without a port.
inline __m512i fresh_zero() {
  __m512i z;
  asm volatile("vpxord %0, %0, %0" : "=v"(z));
  return z;
}
// The same for a start value in memory (a zero-point correction shared by the rows of a chunk):
// loaded afresh for each vpdpbusd, a load-port uop instead of a register copy on port 0 or 5.
// The volatile access keeps GCC from merging the loads into one and copying it. Any alignment
// (the row-group kernels' words are not always 64-byte aligned).
inline __m512i load_fresh(const void* p) {
  return *static_cast<const volatile __m512i_u*>(p);
}
// An int32 broadcast to all lanes straight from memory, once per use (a load-port uop; GCC would
// broadcast once and copy the register for each use).
inline __m512i broadcast_fresh(const int32_t* p) {
  __m512i v;
  asm volatile("vpbroadcastd %1, %0" : "=v"(v) : "m"(*p));
  return v;
}

// One 64-code chunk of one weight row against one prepared activation row: returns the chunk's
// 16 int32 lane sums, converted to f32, of sum (code - zero) * xq (see quant_gemv_avx512.cpp).
// d: the three digit vectors; zc: the chunk's four zero-point correction vectors.
template <bool kNarrow, bool kZero>
inline __m512 dot_chunk(__m512i cv, const __m512i (&d)[3], const __m512i* zc) {
  const __m512i z0 = kZero ? _mm512_load_si512(zc) : fresh_zero();
  __m512i a = _mm512_dpbusd_epi32(z0, cv, d[0]);
  if constexpr (kNarrow) {
    a = _mm512_dpbusd_epi32(shl8(a), cv, d[1]);
    a = _mm512_dpbusd_epi32(shl8(a), cv, d[2]);
    if constexpr (kZero) a = _mm512_add_epi32(a, _mm512_load_si512(zc + 3));
    return _mm512_cvtepi32_ps(a);
  } else {
    a = shl8(a);
    if constexpr (kZero) a = _mm512_add_epi32(a, _mm512_load_si512(zc + 1));
    a = _mm512_dpbusd_epi32(a, cv, d[1]);
    const __m512i b =
        _mm512_dpbusd_epi32(kZero ? _mm512_load_si512(zc + 2) : fresh_zero(), cv, d[2]);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_set1_ps(256.f), _mm512_cvtepi32_ps(b));
  }
}

// One 64-column chunk c of R weight rows (codes cv[j], per-lane weight scales ws[j]) against M
// prepared activation rows: acc[j][i] += (dot in integers) * ws[j] * sx.
// kRound: the activations were prepared with one 8-bit digit (prepare_row_rounded): one
// vpdpbusd per chunk, started at the digit's zero-point correction.
template <int M, int R, bool kNarrow, bool kZero, bool kRound = false>
inline void dot_rows_chunk(const __m512i (&cv)[R], const __m512 (&ws)[R],
                           const uint8_t* const* prep, const PrepLayout& L, int64_t c,
                           __m512 (&acc)[R][M]) {
  if constexpr (kRound) {
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const __m512i d0 =
          _mm512_load_si512(reinterpret_cast<const int8_t*>(prep[i]) + c * kParts * 64);
      const __m512 sx = _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sx_off) + 16 * c);
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) {
        const __m512i z0 = kZero ? load_fresh(prep[i] + L.zc_off + 256 * c) : fresh_zero();
        acc[j][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(z0, cv[j], d0)),
                                    _mm512_mul_ps(ws[j], sx), acc[j][i]);
      }
    }
    return;
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    const int8_t* xd = reinterpret_cast<const int8_t*>(prep[i]) + c * kParts * 64;
    const __m512i d[3] = {_mm512_load_si512(xd), _mm512_load_si512(xd + 64),
                          _mm512_load_si512(xd + 128)};
    const auto* zc = reinterpret_cast<const __m512i*>(prep[i] + L.zc_off + 256 * c);
    const __m512 sx = _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sx_off) + 16 * c);
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j)
      acc[j][i] = _mm512_fmadd_ps(dot_chunk<kNarrow, kZero>(cv[j], d, zc), _mm512_mul_ps(ws[j], sx),
                                  acc[j][i]);
  }
}

}  // namespace
}  // namespace insitu::kernels::avx512
