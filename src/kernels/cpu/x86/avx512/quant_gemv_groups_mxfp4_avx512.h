// The row-group block kernel of MXFP4 (q4_0's lane dots, quant_gemv_groups_k45_avx512.h). Include
// only from quant_gemv_groups_avx512.cpp.
#pragma once

#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_k45_avx512.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu::kernels::avx512 {
namespace {

// ---- MXFP4: fields e (one byte: E8M0), qs (4 words); block 32. ----
// qs word w holds in its low nibbles elements 4w + i and in its high nibbles 16 + 4w + i (i < 4):
// q4_0's order, so each nibble half of a word is one 4-element activation lane
// (OperandRounding::kActivationLane8, as the row-format kernel). A byte table turns an E2M1
// nibble into its code 12 + 2 * e2m1 (0..24), each lane's dot starts at its share of the -12
// (PrepView::init) and is scaled by its own activation scale; the block's 16 rows then take
// their scales 2^(e - 128) (the codes count half units) from the 16 exponent bytes at once:
// the f32 whose exponent field is e - 1, or, for a denormal scale (e < 2), the exact scalar
// form.
constexpr size_t kMxfp4Column = 16 * 17;
constexpr size_t kMxfp4E = 0, kMxfp4Qs = 16;

inline __m512 mxfp4_row_scales(const uint8_t* e_bytes) {
  const __m512i e =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e_bytes)));
  if (__builtin_expect(_mm512_cmplt_epu32_mask(e, _mm512_set1_epi32(2)) == 0, 1))
    return _mm512_castsi512_ps(
        _mm512_sub_epi32(_mm512_slli_epi32(e, 23), _mm512_set1_epi32(1 << 23)));
  alignas(64) float s[16];
  for (int r = 0; r < 16; ++r) s[r] = mxfp4::pow2_e8m0_half(e_bytes[r]);
  return _mm512_load_ps(s);
}

template <int D, int NG>
__attribute__((always_inline)) inline void mxfp4_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                       const PrepView& x, __m512 (&acc)[NG]) {
  const __m512i lut =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mxfp4::kE2M1Codes)));
  __m512 f[NG];
  nibble_lane_dots<D, NG, kMxfp4Column, kMxfp4Qs>(
      cols, b, x,
      [&](int, int, __m512i v, int h) {
        return _mm512_shuffle_epi8(
            lut, h ? gf2(v, gf2_move(4, 4, 0)) : _mm512_and_si512(v, _mm512_set1_epi8(0x0F)));
      },
      f);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fmadd_ps(mxfp4_row_scales(cols[g] + kMxfp4E), f[g], acc[g]);
}

}  // namespace
}  // namespace insitu::kernels::avx512
