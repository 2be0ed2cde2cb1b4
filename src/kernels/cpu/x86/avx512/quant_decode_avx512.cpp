// AVX-512 block decoders (see quant_decode_avx512.h for the decoded form). Bit layouts are the
// registry's (quant/ggml/blocks.h, afq.h, hqq.h, fp8.h, mxfp4.h); each block function is the
// vector transcription of the reference dequantizer of that format.
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"

#include <array>
#include <cstring>

#include "kernels/cpu/x86/avx512/afq_codes_avx512.h"
#include "kernels/cpu/x86/avx512/e4m3_avx512.h"
#include "kernels/cpu/x86/avx512/kquant_scales_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "kernels/cpu/x86/block_bytes_x86.h"
#include "quant/fp8/fp8.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu::kernels::avx512 {
namespace {

// `n` groups sharing one (scale, offset).
inline void fill_groups(float* scale, float* offset, int n, float s, float o) {
  for (int g = 0; g < n; ++g) {
    scale[g] = s;
    offset[g] = o;
  }
}
// The two 16-groups of a 32-element block share scale s (one 8-byte store). Types without
// offsets (QuantDecoder::has_offset false) never write offsets: no reader uses them.
inline void fill_scale2(float* scale, float s) {
  uint32_t b;
  std::memcpy(&b, &s, 4);
  const uint64_t pair = static_cast<uint64_t>(b) << 32 | b;
  std::memcpy(scale, &pair, 8);
}
inline void fill_pair2(float* scale, float* offset, float s, float o) {
  fill_scale2(scale, s);
  fill_scale2(offset, o);
}

// ---- ggml legacy (32 elements, 2 groups) ----------------------------------------------------

// 16 bytes of nibbles -> 32 codes: low nibbles first (elements 0..15), then high.
inline __m256i split_nibbles_lo_hi(const uint8_t* qs) {
  const __m128i q = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

void blk_q4_0(const uint8_t* b, uint8_t* c, float* s, float*) {
  store256(c, split_nibbles_lo_hi(b + 2));
  fill_scale2(s, half_at(b));
}
void blk_q4_1(const uint8_t* b, uint8_t* c, float* s, float* o) {
  store256(c, split_nibbles_lo_hi(b + 4));
  fill_pair2(s, o, half_at(b), half_at(b + 2));
}
// qh bit j is the 5th bit of element j.
inline __m256i q5_codes(const uint8_t* qh_bytes, const uint8_t* qs) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  return _mm256_or_si256(split_nibbles_lo_hi(qs), _mm256_maskz_mov_epi8(qh, _mm256_set1_epi8(16)));
}
void blk_q5_0(const uint8_t* b, uint8_t* c, float* s, float*) {
  store256(c, q5_codes(b + 2, b + 6));
  fill_scale2(s, half_at(b));
}
void blk_q5_1(const uint8_t* b, uint8_t* c, float* s, float* o) {
  store256(c, q5_codes(b + 4, b + 8));
  fill_pair2(s, o, half_at(b), half_at(b + 2));
}
// int8 q -> code q + 128 (xor of the sign bit; zero point 128).
inline void flip_signed32(const uint8_t* q, uint8_t* c) {
  store256(c, _mm256_xor_si256(load256(q), _mm256_set1_epi8(static_cast<char>(0x80))));
}
void blk_q8_0(const uint8_t* b, uint8_t* c, float* s, float*) {
  flip_signed32(b + 2, c);
  fill_scale2(s, half_at(b));
}
void blk_q8_1(const uint8_t* b, uint8_t* c, float* s, float*) {
  flip_signed32(b + 4, c);
  fill_scale2(s, half_at(b));
}

// ---- ggml K-quants (256 elements, 16 groups) ------------------------------------------------

// q2_K: scales[16] | qs[64] | d | dmin. Element 128c + 32g + l = (qs[32c + l] >> 2g) & 3.
void blk_q2k(const uint8_t* b, uint8_t* c, float* s, float* o) {
  const float d = half_at(b + 80), dmin = half_at(b + 82);
  for (int h = 0; h < 2; ++h) {
    const __m256i v = load256(b + 16 + 32 * h);
    for (int g = 0; g < 4; ++g) store256(c + 128 * h + 32 * g, and8(srli16(v, 2 * g), 3));
  }
  const __m512i sc = _mm512_cvtepu8_epi32(load128(b));
  const __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(sc, _mm512_set1_epi32(15)));
  const __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(sc, 4));
  _mm512_storeu_ps(s, _mm512_mul_ps(lo, _mm512_set1_ps(d)));
  _mm512_storeu_ps(o, _mm512_mul_ps(hi, _mm512_set1_ps(-dmin)));
}

// q3_K: hmask[32] | qs[64] | scales[12] | d. Low 2 bits as q2_K, bit (e / 32) of hmask[e % 32]
// set means +4; level = code - 4 (zero point 4) with code = lo + 4 * hbit.
void blk_q3k(const uint8_t* b, uint8_t* c, float* s, float*) {
  const float d = half_at(b + 108);
  const __m256i hm = load256(b);
  for (int h = 0; h < 2; ++h) {
    const __m256i v = load256(b + 32 + 32 * h);
    for (int g = 0; g < 4; ++g) {
      const __m256i lo = and8(srli16(v, 2 * g), 3);
      const __m256i hb = _mm256_slli_epi16(and8(srli16(hm, 4 * h + g), 1), 2);
      store256(c + 128 * h + 32 * g, _mm256_or_si256(lo, hb));
    }
  }
  const __m128i packed = q3k_scale_bytes_vbmi(b + 96);  // offset 32
  const __m512i q = _mm512_sub_epi32(_mm512_cvtepu8_epi32(packed), _mm512_set1_epi32(32));
  _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(q)));
}

// The 12 packed bytes of q4_K / q5_K hold 8 6-bit scales and 8 6-bit mins: sub-blocks 0..3
// in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7 in the nibbles of
// bytes 8..11 plus the top 2 bits of bytes 0..3 / 4..7. Unpacked on 32-bit words, then
// widened so each sub-block's (d * scale, -dmin * min) covers its two 16-groups.
inline void k4_scales(const uint8_t* b, float* s, float* o) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const __m128i packed = k4_scale_min_bytes_vbmi(b + 4);
  // Lane 2g and 2g + 1 of each 16-lane vector take sub-block g's byte.
  const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512i all = _mm512_cvtepu8_epi32(packed);  // 8 scales then 8 mins
  const __m512 sc = _mm512_cvtepi32_ps(_mm512_permutexvar_epi32(dup, all));
  const __m512 mn = _mm512_cvtepi32_ps(
      _mm512_permutexvar_epi32(_mm512_add_epi32(dup, _mm512_set1_epi32(8)), all));
  _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_set1_ps(d), sc));
  _mm512_storeu_ps(o, _mm512_mul_ps(_mm512_set1_ps(-dmin), mn));
}

// q4_K: d | dmin | scales[12] | qs[128]; 32 bytes per 64 elements, low nibbles first.
void blk_q4k(const uint8_t* b, uint8_t* c, float* s, float* o) {
  const __m512i m = _mm512_set1_epi8(0x0F);
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_loadu_si512(b + 16 + 64 * h);
    const __m512i lo = _mm512_and_si512(v, m);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
    _mm512_storeu_si512(c + 128 * h, _mm512_shuffle_i64x2(lo, hi, 0x44));
    _mm512_storeu_si512(c + 128 * h + 64, _mm512_shuffle_i64x2(lo, hi, 0xEE));
  }
  k4_scales(b, s, o);
}

// q5_K: q4_K plus qh[32]: bit j of qh[l] is the 5th bit of element 32j + l.
void blk_q5k(const uint8_t* b, uint8_t* c, float* s, float* o) {
  const __m256i qh = load256(b + 16);
  for (int j = 0; j < 4; ++j) {
    const __m256i q = load256(b + 48 + 32 * j);
    const __m256i h0 = _mm256_slli_epi16(and8(srli16(qh, 2 * j), 1), 4);
    const __m256i h1 = _mm256_slli_epi16(and8(srli16(qh, 2 * j + 1), 1), 4);
    store256(c + 64 * j, _mm256_or_si256(and8(q, 0x0F), h0));
    store256(c + 64 * j + 32, _mm256_or_si256(and8(srli16(q, 4), 0x0F), h1));
  }
  k4_scales(b, s, o);
}

// q6_K: ql[128] | qh[64] | scales[16] (int8) | d; level = code - 32 (zero point 32).
void blk_q6k(const uint8_t* b, uint8_t* c, float* s, float*) {
  const float d = half_at(b + 208);
  for (int h = 0; h < 2; ++h) {
    const __m256i qa = load256(b + 64 * h), qb = load256(b + 64 * h + 32);
    const __m256i qh = load256(b + 128 + 32 * h);
    auto hi2 = [&](int shift) { return _mm256_slli_epi16(and8(srli16(qh, shift), 3), 4); };
    uint8_t* ch = c + 128 * h;
    store256(ch, _mm256_or_si256(and8(qa, 0x0F), hi2(0)));
    store256(ch + 32, _mm256_or_si256(and8(qb, 0x0F), hi2(2)));
    store256(ch + 64, _mm256_or_si256(and8(srli16(qa, 4), 0x0F), hi2(4)));
    store256(ch + 96, _mm256_or_si256(and8(srli16(qb, 4), 0x0F), hi2(6)));
  }
  const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load128(b + 192)));
  _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_set1_ps(d), sc));
}

// q8_K: f32 d | qs[256] | bsums.
void blk_q8k(const uint8_t* b, uint8_t* c, float* s, float*) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int j = 0; j < 4; ++j)
    _mm512_storeu_si512(c + 64 * j, _mm512_xor_si512(_mm512_loadu_si512(b + 4 + 64 * j), flip));
  _mm512_storeu_ps(s, _mm512_set1_ps(f32_at(b)));
}

// ---- AFQ (group 64: f16 scale | f16 bias | little-endian bit stream) ------------------------

template <int kBits>
void blk_afq(const uint8_t* b, uint8_t* c, float* s, float* o) {
  _mm512_storeu_si512(c, afq_group_codes<kBits>(b + 4));
  fill_groups(s, o, 4, half_at(b), half_at(b + 2));
}

// ---- HQQ (group 64: f32 scale | f32 zero | codes); value = (q - zero) * scale ---------------

void blk_hqq4(const uint8_t* b, uint8_t* c, float* s, float* o) {
  const float scale = f32_at(b), zero = f32_at(b + 4);
  const __m256i v = load256(b + 8);  // byte k = q[k] << 4 | q[k + 32]
  store256(c, and8(srli16(v, 4), 0x0F));
  store256(c + 32, and8(v, 0x0F));
  fill_groups(s, o, 4, scale, -(zero * scale));
}
void blk_hqq8(const uint8_t* b, uint8_t* c, float* s, float* o) {
  const float scale = f32_at(b), zero = f32_at(b + 4);
  _mm512_storeu_si512(c, _mm512_loadu_si512(b + 8));
  fill_groups(s, o, 4, scale, -(zero * scale));
}

// Values exactly as the reference computes them, (q - zero) * scale: the code form's
// fma(q, scale, -zero * scale) differs by more than one rounding when q is near zero, which
// changes bf16-rounded weights (OperandRounding::kBf16) and so the AMX fast path's result.
template <void (*Blk)(const uint8_t*, uint8_t*, float*, float*), int kBytes>
void values_hqq(const uint8_t* row, int64_t b0, int64_t nb, float* out) {
  alignas(64) uint8_t codes[64];
  alignas(64) float scale[4], offset[4];
  for (int64_t i = 0; i < nb; ++i, out += 64) {
    const uint8_t* b = row + (b0 + i) * kBytes;
    Blk(b, codes, scale, offset);
    const __m512 sv = _mm512_set1_ps(f32_at(b)), zv = _mm512_set1_ps(f32_at(b + 4));
    for (int g = 0; g < 4; ++g) {
      const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(load128(codes + 16 * g)));
      _mm512_storeu_ps(out + 16 * g, _mm512_mul_ps(_mm512_sub_ps(q, zv), sv));
    }
  }
}

// ---- F8Q8 (32: u8 e4m3 d | int8 q[32]); value = q * (e4m3(d) / 448) -------------------------

void blk_f8q8(const uint8_t* b, uint8_t* c, float* s, float*) {
  flip_signed32(b + 1, c);
  fill_scale2(s, fp8::f8q8_block_scales()[b[0]]);
}

// ---- MXFP4 (32: u8 e8m0 | qs[16]); value = e2m1(nibble) * 2^(e - 127) -----------------------
// code = 12 + 2 * e2m1 (0..24, zero point 12), scale = 2^(e - 128).

void blk_mxfp4(const uint8_t* b, uint8_t* c, float* s, float*) {
  const __m256i lut = _mm256_broadcastsi128_si256(load128(mxfp4::kE2M1Codes));
  store256(c, _mm256_shuffle_epi8(lut, split_nibbles_lo_hi(b + 1)));
  fill_scale2(s, mxfp4::pow2_e8m0_half(b[0]));
}

// ---- FP8 (128: f32 d | e4m3 q[128]): values only ---------------------------------------------
void values_fp8(const uint8_t* row, int64_t b0, int64_t nb, float* out) {
  constexpr int kBytes = sizeof(fp8::BlockFp8);
  for (int64_t i = 0; i < nb; ++i, out += fp8::kFp8Block) {
    const uint8_t* b = row + (b0 + i) * kBytes;
    const __m512 d = _mm512_set1_ps(f32_at(b));
    for (int k = 0; k < 4; ++k) {
      __m512 f0, f1;
      e4m3x32_to_f32(b + 4 + 32 * k, &f0, &f1);  // NaN stays NaN through the scale
      _mm512_storeu_ps(out + 32 * k, _mm512_mul_ps(f0, d));
      _mm512_storeu_ps(out + 32 * k + 16, _mm512_mul_ps(f1, d));
    }
  }
}

// ---- Row wrappers ----------------------------------------------------------------------------

using BlockFn = void (*)(const uint8_t*, uint8_t*, float*, float*);

template <BlockFn F, int kBlock, int kBytes>
void codes_rows(const uint8_t* row, int64_t b0, int64_t nb, uint8_t* codes, float* scale,
                float* offset) {
  constexpr int kGroups = kBlock / kDecodeGroup;
  for (int64_t i = 0; i < nb; ++i)
    F(row + (b0 + i) * kBytes, codes + i * kBlock, scale + i * kGroups, offset + i * kGroups);
}

template <BlockFn F, int kBlock, int kBytes, int kZero, bool kOffset>
void values_rows(const uint8_t* row, int64_t b0, int64_t nb, float* out) {
  constexpr int kGroups = kBlock / kDecodeGroup;
  alignas(64) uint8_t codes[kBlock];
  alignas(64) float scale[kGroups], offset[kGroups];
  for (int64_t i = 0; i < nb; ++i, out += kBlock) {
    F(row + (b0 + i) * kBytes, codes, scale, offset);
    for (int g = 0; g < kGroups; ++g) {
      const __m512i c = _mm512_cvtepu8_epi32(load128(codes + 16 * g));
      const __m512 q = _mm512_cvtepi32_ps(_mm512_sub_epi32(c, _mm512_set1_epi32(kZero)));
      const __m512 sv = _mm512_set1_ps(scale[g]);
      _mm512_storeu_ps(out + 16 * g, kOffset ? _mm512_fmadd_ps(q, sv, _mm512_set1_ps(offset[g]))
                                             : _mm512_mul_ps(q, sv));
    }
  }
}

template <BlockFn F, int kBlock, int kBytes, int kZero, int kCodeMax, bool kOffset>
constexpr QuantDecoder code_decoder() {
  return {kBlock,
          kBytes,
          kZero,
          codes_rows<F, kBlock, kBytes>,
          values_rows<F, kBlock, kBytes, kZero, kOffset>,
          kCodeMax,
          kOffset};
}

constexpr int afq_bytes(int bits) {
  return 4 + 64 * bits / 8;
}

}  // namespace

const QuantDecoder& quant_decoder(QuantType t) {
  using QT = QuantType;
  static constexpr QuantDecoder kQ4_0 = code_decoder<blk_q4_0, 32, 18, 8, 15, false>();
  static constexpr QuantDecoder kQ4_1 = code_decoder<blk_q4_1, 32, 20, 0, 15, true>();
  static constexpr QuantDecoder kQ5_0 = code_decoder<blk_q5_0, 32, 22, 16, 31, false>();
  static constexpr QuantDecoder kQ5_1 = code_decoder<blk_q5_1, 32, 24, 0, 31, true>();
  static constexpr QuantDecoder kQ8_0 = code_decoder<blk_q8_0, 32, 34, 128, 255, false>();
  static constexpr QuantDecoder kQ8_1 = code_decoder<blk_q8_1, 32, 36, 128, 255, false>();
  static constexpr QuantDecoder kQ2K = code_decoder<blk_q2k, 256, 84, 0, 3, true>();
  static constexpr QuantDecoder kQ3K = code_decoder<blk_q3k, 256, 110, 4, 7, false>();
  static constexpr QuantDecoder kQ4K = code_decoder<blk_q4k, 256, 144, 0, 15, true>();
  static constexpr QuantDecoder kQ5K = code_decoder<blk_q5k, 256, 176, 0, 31, true>();
  static constexpr QuantDecoder kQ6K = code_decoder<blk_q6k, 256, 210, 32, 63, false>();
  static constexpr QuantDecoder kQ8K = code_decoder<blk_q8k, 256, 292, 128, 255, false>();
  static constexpr QuantDecoder kAfq2 = code_decoder<blk_afq<2>, 64, afq_bytes(2), 0, 3, true>();
  static constexpr QuantDecoder kAfq3 = code_decoder<blk_afq<3>, 64, afq_bytes(3), 0, 7, true>();
  static constexpr QuantDecoder kAfq4 = code_decoder<blk_afq<4>, 64, afq_bytes(4), 0, 15, true>();
  static constexpr QuantDecoder kAfq6 = code_decoder<blk_afq<6>, 64, afq_bytes(6), 0, 63, true>();
  static constexpr QuantDecoder kAfq8 = code_decoder<blk_afq<8>, 64, afq_bytes(8), 0, 255, true>();
  static constexpr QuantDecoder kHqq4 = {
      64, 40, 0, codes_rows<blk_hqq4, 64, 40>, values_hqq<blk_hqq4, 40>, 15, true};
  static constexpr QuantDecoder kHqq8 = {
      64, 72, 0, codes_rows<blk_hqq8, 64, 72>, values_hqq<blk_hqq8, 72>, 255, true};
  static constexpr QuantDecoder kFp8 = {
      fp8::kFp8Block, sizeof(fp8::BlockFp8), 0, nullptr, values_fp8, 0, true};
  static constexpr QuantDecoder kF8Q8 = code_decoder<blk_f8q8, 32, 33, 128, 255, false>();
  static constexpr QuantDecoder kMxfp4 = code_decoder<blk_mxfp4, 32, 17, 12, 24, false>();
  static constexpr QuantDecoder kNone = {1, 0, 0, nullptr, nullptr, 0, false};
  switch (t) {
    case QT::kQ4_0: return kQ4_0;
    case QT::kQ4_1: return kQ4_1;
    case QT::kQ5_0: return kQ5_0;
    case QT::kQ5_1: return kQ5_1;
    case QT::kQ8_0: return kQ8_0;
    case QT::kQ8_1: return kQ8_1;
    case QT::kQ2K: return kQ2K;
    case QT::kQ3K: return kQ3K;
    case QT::kQ4K: return kQ4K;
    case QT::kQ5K: return kQ5K;
    case QT::kQ6K: return kQ6K;
    case QT::kQ8K: return kQ8K;
    case QT::kAfq2: return kAfq2;
    case QT::kAfq3: return kAfq3;
    case QT::kAfq4: return kAfq4;
    case QT::kAfq6: return kAfq6;
    case QT::kAfq8: return kAfq8;
    case QT::kHqq4: return kHqq4;
    case QT::kHqq8: return kHqq8;
    case QT::kFp8: return kFp8;
    case QT::kF8Q8: return kF8Q8;
    case QT::kMxfp4: return kMxfp4;
    default: return kNone;  // dense types never reach the quantized kernels
  }
}

}  // namespace insitu::kernels::avx512
