// The 64 codes of one AFQ group (quant/afq: a little-endian bit stream of kBits-bit codes; 4-bit:
// byte i = code 2i | code 2i+1 << 4) as 64 bytes in column order. Shared by the decode-to-buffer
// decoder (quant_decode_avx512.cpp) and the register-decoding GEMV (quant_gemv_fused_avx512.cpp).
// Include only from AVX-512 translation units.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {  // internal linkage, as simd512.h: no AVX-512 code merged into baseline code

template <int kBits>
inline __m512i afq_group_codes(const uint8_t* q) {
  static_assert(kBits == 2 || kBits == 3 || kBits == 4 || kBits == 6 || kBits == 8);
  if constexpr (kBits == 8) {
    return _mm512_loadu_si512(q);
  } else if constexpr (kBits == 4) {
    const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    // (w & 0x000F) | ((w << 4) & 0x0F00): low nibble to the even byte, high to the odd one
    return _mm512_ternarylogic_epi32(_mm512_and_si512(w, _mm512_set1_epi16(0x000F)),
                                     _mm512_slli_epi16(w, 4), _mm512_set1_epi16(0x0F00), 0xF8);
  } else {
    // 8 codes per qword lane: lane i gathers the kBits bytes holding codes 8i..8i+7, then
    // vpmultishiftqb pulls code k from bit offset kBits * k.
    constexpr int kLaneBytes = kBits;  // 8 codes * kBits bits / 8
    alignas(64) static constexpr std::array<uint8_t, 64> kIdx = [] {
      std::array<uint8_t, 64> a{};
      for (int i = 0; i < 8; ++i)
        for (int t = 0; t < 8; ++t)
          a[8 * i + t] = static_cast<uint8_t>(i * kLaneBytes + (t < kLaneBytes ? t : 0));
      return a;
    }();
    const __m512i src = _mm512_maskz_loadu_epi8((1ull << (8 * kBits)) - 1, q);
    const __m512i gathered = _mm512_permutexvar_epi8(_mm512_load_si512(kIdx.data()), src);
    constexpr uint64_t kShifts = [] {
      uint64_t c64 = 0;
      for (int k = 0; k < 8; ++k) c64 |= static_cast<uint64_t>(kBits * k) << (8 * k);
      return c64;
    }();
    const __m512i ctrl = _mm512_set1_epi64(static_cast<long long>(kShifts));
    return _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, gathered),
                            _mm512_set1_epi8(static_cast<char>((1 << kBits) - 1)));
  }
}

}  // namespace
}  // namespace insitu::kernels::avx512
