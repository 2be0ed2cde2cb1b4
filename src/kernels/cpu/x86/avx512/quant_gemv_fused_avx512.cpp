// Register-decoding GEMV (see quant_gemv_fused_avx512.h). Per type, a "unit" is a whole number
// of blocks spanning a multiple of 64 columns (q5_0 / q8_0 / q8_1: two 32-element blocks; q4_0:
// four; K-quants: one 256-element block). load() reads a unit of one row and builds what every
// chunk of it shares (scale vectors); chunk<k>() returns chunk k's 64 codes in natural column
// order and its per-lane weight scales (lane l covers columns 4l..4l+3 of the chunk); offsets()
// returns one offset per 16-column group of the unit (types with per-block minimums). Grouped
// units (q2k, q3k in rounded mode, kGrouped) instead return per-slot operands that carry the
// sub-block scales, summed over the unit in int32 (see "Grouped rounded mode" below). Bit fields
// are moved by GF(2) affine byte ops (gf2_move) and byte permutes. Bit layouts:
// quant/ggml/blocks.h; each decoder is checked against the reference dequantizer by
// tests/kernels/quant_matmul_test.cpp at every ISA level.
#include "kernels/cpu/x86/avx512/quant_gemv_fused_avx512.h"

#include <array>
#include <cstdlib>
#include <string_view>

#include "kernels/cpu/x86/avx512/afq_codes_avx512.h"
#include "kernels/cpu/x86/avx512/kquant_scales_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_common_avx512.h"
#include "quant/fp8/fp8.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu::kernels::avx512 {
namespace {

// Four dwords (two qwords) `stride` bytes apart, as one vector: the per-group scales of the
// afq, q4_1/q5_1 and hqq units. Scalar loads and inserts. A stack copy reloaded as one vector
// misses store forwarding (perf: 40% of the q4_1 kernel's samples on the Xeon); the hardware
// gather that replaced it is slow on Zen 5, where these inserts gave tg64 afq2 +9%, q4_1 +12%,
// hqq4 +8% (alternated medians of 4; not measured on the Xeon).
inline __m128i strided_dwords4(const uint8_t* p, int stride) {
  int32_t v[4];
  for (int i = 0; i < 4; ++i) __builtin_memcpy(&v[i], p + i * stride, 4);
  return _mm_setr_epi32(v[0], v[1], v[2], v[3]);
}
inline __m128i strided_qwords2(const uint8_t* p, int stride) {
  int64_t v[2];
  for (int i = 0; i < 2; ++i) __builtin_memcpy(&v[i], p + i * stride, 8);
  return _mm_set_epi64x(v[1], v[0]);
}

// The f16 at p in every lane: a broadcast load and one conversion, where converting a scalar
// and broadcasting it crossed from integer to vector registers (costly on Zen 5, see above).
inline __m512 broadcast_f16(const uint8_t* p) {
  int16_t h;
  __builtin_memcpy(&h, p, 2);
  return _mm512_cvtph_ps(_mm256_set1_epi16(h));
}

inline __m512i bytes_index(const std::array<uint8_t, 64>& a) {
  return _mm512_loadu_si512(a.data());
}

// Lane l of chunk k takes element 4 * k + l / 4 of v (one value per 16-element group).
template <int k>
inline __m512 per_group(__m512 v) {
  return _mm512_permutexvar_ps(
      _mm512_setr_epi32(4 * k, 4 * k, 4 * k, 4 * k, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1,
                        4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 3, 4 * k + 3, 4 * k + 3,
                        4 * k + 3),
      v);
}
// Bit field moved with matrix a in bytes 0..31 (qwords 0..3) and with b in bytes 32..63.
inline __m512i gf2_halves(__m512i v, uint64_t a, uint64_t b) {
  const auto ia = static_cast<long long>(a), ib = static_cast<long long>(b);
  return _mm512_gf2p8affine_epi64_epi8(v, _mm512_setr_epi64(ia, ia, ia, ia, ib, ib, ib, ib), 0);
}
inline __m512i broadcast32(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// vpermb index bringing the f16 scales of two consecutive blocks (at 0 and block_bytes) into
// 16-bit words 0..7 (d0) and 8..15 (d1), i.e. the lanes of each block's 32 columns.
constexpr std::array<uint8_t, 64> two_block_scale_index(int block_bytes) {
  std::array<uint8_t, 64> a{};
  for (int i = 0; i < 32; ++i) a[i] = static_cast<uint8_t>((i < 16 ? 0 : block_bytes) + i % 2);
  return a;
}
// vpermb index repeating each block's 16 nibble bytes (at qs0 and qs1) twice, so that
// split_nibbles gives the 64 codes of the two blocks in column order.
constexpr std::array<uint8_t, 64> two_block_nibble_index(int qs0, int qs1) {
  std::array<uint8_t, 64> a{};
  for (int i = 0; i < 64; ++i) a[i] = static_cast<uint8_t>((i < 32 ? qs0 : qs1) + i % 16);
  return a;
}
// Low nibbles from the first 16 bytes of each 32-byte half, high nibbles from the second 16.
inline __m512i split_nibbles(__m512i v) {
  constexpr auto lo = static_cast<long long>(gf2_move(0, 4, 0)),
                 hi = static_cast<long long>(gf2_move(4, 4, 0));
  return _mm512_gf2p8affine_epi64_epi8(v, _mm512_setr_epi64(lo, lo, hi, hi, lo, lo, hi, hi), 0);
}
inline __m512 two_block_scales(__m512i raw, const std::array<uint8_t, 64>& index) {
  return _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi8(bytes_index(index), raw)));
}

// q4_0: four blocks of (f16 d | qs[16]) per unit, two 64-column chunks; element l < 16 of a
// block is the low nibble of qs[l], l >= 16 the high nibble of qs[l - 16]; value =
// (code - 8) * d. Four blocks rather than two so that their scales come from one 64-byte load,
// one byte permute and one 4-wide f16 conversion (the second chunk's codes straddle the 64-byte
// load and come from a two-register vpermi2b).
struct FusedQ4_0 {
  static constexpr int kUnitCols = 128, kUnitBytes = 72, kChunks = 2, kZero = 8;
  static constexpr bool kNarrow = true, kOffset = false, kGrouped = false;
  static constexpr auto kCodeIdx0 = two_block_nibble_index(2, 20);
  static constexpr auto kCodeIdx1 = two_block_nibble_index(38, 56);  // >= 64: second register
  static constexpr std::array<uint8_t, 64> kScaleIdx = {0, 1, 18, 19, 36, 37, 54, 55};
  struct Unit {
    __m512i raw0, raw1;
    __m512 d;  // lanes 0..3: the blocks' scales
  };
  static Unit load(const uint8_t* p) {
    const __m512i raw0 = _mm512_loadu_si512(p);
    const __m128i d16 =
        _mm512_castsi512_si128(_mm512_permutexvar_epi8(bytes_index(kScaleIdx), raw0));
    return {raw0, _mm512_maskz_loadu_epi8(0xFF, p + 64), _mm512_zextps128_ps512(_mm_cvtph_ps(d16))};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    if constexpr (k == 0)
      cv = split_nibbles(_mm512_permutexvar_epi8(bytes_index(kCodeIdx0), u.raw0));
    else
      cv = split_nibbles(_mm512_permutex2var_epi8(u.raw0, bytes_index(kCodeIdx1), u.raw1));
    ws = _mm512_permutexvar_ps(_mm512_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k,
                                                 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1,
                                                 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1),
                               u.d);
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// q5_0 / q5_1: the 5th bits of two blocks (little-endian words qh, bit l for element l) as a
// mask over the 64 codes of the pair.
inline __mmask64 two_block_high_bits(const uint8_t* qh0, const uint8_t* qh1) {
  uint32_t h0, h1;
  __builtin_memcpy(&h0, qh0, 4);
  __builtin_memcpy(&h1, qh1, 4);
  return static_cast<__mmask64>(h0 | static_cast<uint64_t>(h1) << 32);
}

// The int8 levels of two 32-element blocks (at q0 and q1) as 64 codes q + 128 (the sign bit
// flipped; zero point 128).
inline __m512i two_block_int8_codes(const uint8_t* q0, const uint8_t* q1) {
  const __m512i q = _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q0))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q1)), 1);
  return _mm512_xor_si512(q, _mm512_set1_epi8(static_cast<char>(0x80)));
}

// q8_0 / q8_1: two blocks of (f16 d | [f16 s] | int8 qs[32]); code = q + 128. kQs: offset of
// qs in the block (q8_1's s, the block sum, is not needed to dequantize).
template <int kBlockBytes, int kQs>
struct FusedQ8Legacy {
  static constexpr int kUnitCols = 64, kUnitBytes = 2 * kBlockBytes, kChunks = 1, kZero = 128;
  static constexpr bool kNarrow = false, kOffset = false, kGrouped = false;
  static_assert(kBlockBytes + 2 <= 64, "both scales within the first 64 bytes");
  static constexpr auto kScaleIdx = two_block_scale_index(kBlockBytes);
  struct Unit {
    const uint8_t* p;
  };
  static Unit load(const uint8_t* p) { return {p}; }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = two_block_int8_codes(u.p + kQs, u.p + kBlockBytes + kQs);
    ws = two_block_scales(_mm512_loadu_si512(u.p), kScaleIdx);
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};
using FusedQ8_0 = FusedQ8Legacy<34, 2>;
using FusedQ8_1 = FusedQ8Legacy<36, 4>;

// q5_0: two blocks of (f16 d | qh[4] | qs[16]): q4_0's nibbles plus a 5th bit, bit l of the
// little-endian word qh for element l; value = (code - 16) * d.
struct FusedQ5_0 {
  static constexpr int kUnitCols = 64, kUnitBytes = 44, kChunks = 1, kZero = 16;
  static constexpr bool kNarrow = true, kOffset = false, kGrouped = false;
  static constexpr auto kCodeIdx = two_block_nibble_index(6, 28);
  static constexpr auto kScaleIdx = two_block_scale_index(22);
  struct Unit {
    __m512i raw;
    __mmask64 high;  // element e (of the unit's 64) has its 5th bit set
  };
  static Unit load(const uint8_t* p) {
    return {_mm512_maskz_loadu_epi8((1ull << 44) - 1, p), two_block_high_bits(p + 2, p + 24)};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = _mm512_or_si512(split_nibbles(_mm512_permutexvar_epi8(bytes_index(kCodeIdx), u.raw)),
                         _mm512_maskz_mov_epi8(u.high, _mm512_set1_epi8(16)));
    ws = two_block_scales(u.raw, kScaleIdx);
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// Units of four 64-element groups (afq, hqq) keep each group's weight scale and offset in
// lanes 2g and 2g + 1 of one vector: chunk k's per-lane scale, and the unit's 16-column offsets
// (group g / 4's offset for 16-column group g).
template <int k>
inline __m512 four_group_scale(__m512 pairs) {
  return _mm512_permutexvar_ps(_mm512_set1_epi32(2 * k), pairs);
}
inline __m512 four_group_offsets(__m512 pairs) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7),
                               pairs);
}

// AFQ (MLX affine, group 64): per group f16 scale | f16 bias | 64 codes of kBits bits
// (afq_group_codes); value = scale * code + bias. A unit is four groups, chunk k group k; the
// bias is the offset of the group's four 16-column groups.
template <int kBits>
struct FusedAfq {
  static constexpr int kGroupBytes = 4 + 8 * kBits;
  static constexpr int kUnitCols = 256, kUnitBytes = 4 * kGroupBytes, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = kBits <= 6, kOffset = true, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 sb;  // lanes 2g, 2g + 1: group g's scale and bias
  };
  static Unit load(const uint8_t* p) {
    const __m128i sb = strided_dwords4(p, kGroupBytes);
    return {p, _mm512_castps256_ps512(_mm256_cvtph_ps(sb))};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = afq_group_codes<kBits>(u.p + k * kGroupBytes + 4);
    ws = four_group_scale<k>(u.sb);
  }
  static __m512 offsets(const Unit& u) { return four_group_offsets(u.sb); }
};

// f8q8: two blocks of (u8 e4m3 d | int8 qs[32]); code = q + 128, the block scale e4m3(d) / 448
// (looked up in fp8::f8q8_block_scales, fetched once: a call per chunk halved the kernel's rate).
const float* const kF8Q8Scales = fp8::f8q8_block_scales().data();
struct FusedF8Q8 {
  static constexpr int kUnitCols = 64, kUnitBytes = 66, kChunks = 1, kZero = 128;
  static constexpr bool kNarrow = false, kOffset = false, kGrouped = false;
  struct Unit {
    const uint8_t* p;
  };
  static Unit load(const uint8_t* p) { return {p}; }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = two_block_int8_codes(u.p + 1, u.p + 34);
    ws = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(kF8Q8Scales[u.p[0]]),
                              _mm512_set1_ps(kF8Q8Scales[u.p[33]]));
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// q4_1 / q5_1: eight blocks of (f16 d | f16 m | [qh[4]] | qs[16]) per unit (kQs: offset of qs;
// q5_1's qh at 4): q4_0's nibble order, q5_1's 5th bit as q5_0's; value = d * code + m. Chunk k
// is blocks 2k and 2k + 1; each block's m is the offset of its two 16-column groups.
template <int kBlockBytes, int kQs>
struct FusedQ4_1Like {
  static constexpr bool kFifthBit = kQs == 8;
  static constexpr int kUnitCols = 256, kUnitBytes = 8 * kBlockBytes, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = true, kOffset = true, kGrouped = false;
  static constexpr auto kCodeIdx = two_block_nibble_index(kQs, kBlockBytes + kQs);
  struct Unit {
    const uint8_t* p;
    __m512 dm;  // lanes 2b, 2b + 1: block b's d and m
  };
  static Unit load(const uint8_t* p) {
    const __m256i dm =
        _mm256_inserti128_si256(_mm256_castsi128_si256(strided_dwords4(p, kBlockBytes)),
                                strided_dwords4(p + 4 * kBlockBytes, kBlockBytes), 1);
    return {p, _mm512_cvtph_ps(dm)};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    const uint8_t* b = u.p + 2 * k * kBlockBytes;
    const __m512i raw = _mm512_maskz_loadu_epi8((1ull << (2 * kBlockBytes)) - 1, b);
    cv = split_nibbles(_mm512_permutexvar_epi8(bytes_index(kCodeIdx), raw));
    if constexpr (kFifthBit)
      cv =
          _mm512_or_si512(cv, _mm512_maskz_mov_epi8(two_block_high_bits(b + 4, b + kBlockBytes + 4),
                                                    _mm512_set1_epi8(16)));
    ws = _mm512_permutexvar_ps(_mm512_setr_epi32(4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k,
                                                 4 * k, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2,
                                                 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2),
                               u.dm);
  }
  static __m512 offsets(const Unit& u) {
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15), u.dm);
  }
};
using FusedQ4_1 = FusedQ4_1Like<20, 4>;
using FusedQ5_1 = FusedQ4_1Like<24, 8>;

// HQQ (group 64, axis 1): f32 scale | f32 zero | codes (4-bit: byte i = q[i] << 4 | q[i + 32];
// 8-bit: bytes); value = (q - zero) * scale, taken as scale * q - zero * scale (the
// decode-to-buffer path's form). A unit is four groups, chunk k group k.
template <int kBits>
struct FusedHqq {
  static constexpr int kGroupBytes = 8 + 8 * kBits;
  static constexpr int kUnitCols = 256, kUnitBytes = 4 * kGroupBytes, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = kBits == 4, kOffset = true, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 so;  // lanes 2g, 2g + 1: group g's scale and -zero * scale
  };
  static Unit load(const uint8_t* p) {
    const __m256 sz = _mm256_castsi256_ps(_mm256_setr_m128i(
        strided_qwords2(p, kGroupBytes), strided_qwords2(p + 2 * kGroupBytes, kGroupBytes)));
    const __m256 scales = _mm256_moveldup_ps(sz);  // each group's scale in both of its lanes
    const __m256 offsets = _mm256_xor_ps(_mm256_mul_ps(sz, scales), _mm256_set1_ps(-0.f));
    return {p, _mm512_castps256_ps512(_mm256_blend_ps(sz, offsets, 0xAA))};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    const uint8_t* q = u.p + k * kGroupBytes + 8;
    if constexpr (kBits == 4)  // high nibbles are elements 0..31, low nibbles 32..63
      cv = gf2_halves(broadcast32(q), gf2_move(4, 4, 0), gf2_move(0, 4, 0));
    else
      cv = _mm512_loadu_si512(q);
    ws = four_group_scale<k>(u.so);
  }
  static __m512 offsets(const Unit& u) { return four_group_offsets(u.so); }
};

// MXFP4: two blocks of (u8 e8m0 | qs[16]) per unit, q4_0's nibble order; an E2M1 nibble becomes
// code 12 + 2 * e2m1 (0..24, zero point 12) through a byte table, the block scale 2^(e - 128).
struct FusedMxfp4 {
  static constexpr int kUnitCols = 64, kUnitBytes = 34, kChunks = 1, kZero = 12;
  static constexpr bool kNarrow = true, kOffset = false, kGrouped = false;
  static constexpr auto kCodeIdx = two_block_nibble_index(1, 18);
  // Byte 0 of dword lanes 0..7 from the first block's exponent (byte 0), of lanes 8..15 from
  // the second's (byte 17); the other bytes are zeroed by the permute's mask.
  static constexpr std::array<uint8_t, 64> kScaleIdx = [] {
    std::array<uint8_t, 64> a{};
    for (int l = 0; l < 16; ++l) a[4 * l] = l < 8 ? 0 : 17;
    return a;
  }();
  struct Unit {
    const uint8_t* p;
  };
  static Unit load(const uint8_t* p) { return {p}; }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    const __m512i lut = _mm512_broadcast_i32x4(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(mxfp4::kE2M1Codes)));
    const __m512i raw = _mm512_maskz_loadu_epi8((1ull << 34) - 1, u.p);
    cv = _mm512_shuffle_epi8(lut,
                             split_nibbles(_mm512_permutexvar_epi8(bytes_index(kCodeIdx), raw)));
    if (__builtin_expect(u.p[0] >= 2 && u.p[17] >= 2, 1)) {
      // 2^(e - 128) = the f32 with exponent field e - 1, made from the bytes already loaded
      // (3 vector operations instead of two broadcasts of scalar results and a blend).
      const __m512i e =
          _mm512_maskz_permutexvar_epi8(0x1111111111111111ull, bytes_index(kScaleIdx), raw);
      ws = _mm512_castsi512_ps(
          _mm512_sub_epi32(_mm512_slli_epi32(e, 23), _mm512_set1_epi32(1 << 23)));
    } else {  // a denormal scale (e < 2): the exact scalar form
      ws = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(mxfp4::pow2_e8m0_half(u.p[0])),
                                _mm512_set1_ps(mxfp4::pow2_e8m0_half(u.p[17])));
    }
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// q8_K: f32 d | int8 qs[256] | bsums; code = q + 128, one scale for the block.
struct FusedQ8K {
  static constexpr int kUnitCols = 256, kUnitBytes = 292, kChunks = 4, kZero = 128;
  static constexpr bool kNarrow = false, kOffset = false, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 d;
  };
  static Unit load(const uint8_t* p) {
    float d;
    __builtin_memcpy(&d, p, 4);
    return {p, _mm512_set1_ps(d)};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = _mm512_xor_si512(_mm512_loadu_si512(u.p + 4 + 64 * k),
                          _mm512_set1_epi8(static_cast<char>(0x80)));
    ws = u.d;
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// q4_K: f16 d | f16 dmin | scales[12] | qs[128]. Sub-block j (32 elements) has 6-bit scale
// sc_j and min m_j; value = d * sc_j * code - dmin * m_j. Chunk k holds sub-blocks 2k (low
// nibbles of qs[32k..32k+31]) and 2k + 1 (their high nibbles).
struct FusedQ4K {
  static constexpr int kUnitCols = 256, kUnitBytes = 144, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = true, kOffset = true, kGrouped = false;
  struct Unit {
    const uint8_t* qs;
    __m512 sm;  // lanes 0..7: d * sc_j; lanes 8..15: -dmin * m_j
  };
  static Unit load(const uint8_t* p) {
    const __m512 f = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(k4_scale_min_bytes_vbmi(p + 4)));
    // Lanes 0..7 scale by d, lanes 8..15 by -dmin: both f16 converted at once from one
    // broadcast dword (d, dmin alternate), then spread and the upper half negated.
    uint32_t dd;
    __builtin_memcpy(&dd, p, 4);
    const __m512 dpair = _mm512_cvtph_ps(_mm256_set1_epi32(static_cast<int>(dd)));
    const __m512 dsel =
        _mm512_xor_ps(_mm512_permutexvar_ps(
                          _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), dpair),
                      _mm512_castsi512_ps(_mm512_setr_epi32(
                          0, 0, 0, 0, 0, 0, 0, 0, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN,
                          INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN)));
    return {p + 16, _mm512_mul_ps(f, dsel)};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = gf2_halves(broadcast32(u.qs + 32 * k), gf2_move(0, 4, 0), gf2_move(4, 4, 0));
    ws = sub_block_scales<k>(u);
  }
  // Lanes 0..7 of chunk k: sub-block 2k's scale; lanes 8..15: sub-block 2k + 1's.
  template <int k>
  static __m512 sub_block_scales(const Unit& u) {
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1,
                          2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1,
                          2 * k + 1),
        u.sm);
  }
  static __m512 offsets(const Unit& u) {  // group g belongs to sub-block g / 2
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15), u.sm);
  }
};

// q5_K: f16 d | f16 dmin | scales[12] | qh[32] | qs[128]: q4_K's codes and scales plus a 5th
// bit, bit 2k (first 32 elements of chunk k) or 2k + 1 (last 32) of qh[l].
struct FusedQ5K {
  static constexpr int kUnitCols = 256, kUnitBytes = 176, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = true, kOffset = true, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 sm;
  };
  static Unit load(const uint8_t* p) { return {p, FusedQ4K::load(p).sm}; }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    const __m512i lo =
        gf2_halves(broadcast32(u.p + 48 + 32 * k), gf2_move(0, 4, 0), gf2_move(4, 4, 0));
    const __m512i hb =
        gf2_halves(broadcast32(u.p + 16), gf2_move(2 * k, 1, 4), gf2_move(2 * k + 1, 1, 4));
    cv = _mm512_or_si512(lo, hb);
    ws = FusedQ4K::sub_block_scales<k>({nullptr, u.sm});
  }
  static __m512 offsets(const Unit& u) { return FusedQ4K::offsets({nullptr, u.sm}); }
};

// q3_K: hmask[32] | qs[64] | scales[12] | f16 d. Element 128h + 32g + l: low 2 bits
// (qs[32h + l] >> 2g) & 3, bit (4h + g) of hmask[l] adds 4; value = d * (sc - 32) * (code - 4)
// with sixteen 6-bit scales (one per 16 elements).
struct FusedQ3K {
  static constexpr int kUnitCols = 256, kUnitBytes = 110, kChunks = 4, kZero = 4;
  static constexpr bool kNarrow = true, kOffset = false, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 sc;
  };
  static Unit load(const uint8_t* p) {
    const __m512i q =
        _mm512_sub_epi32(_mm512_cvtepu8_epi32(q3k_scale_bytes_vbmi(p + 96)), _mm512_set1_epi32(32));
    return {p, _mm512_mul_ps(_mm512_cvtepi32_ps(q), broadcast_f16(p + 108))};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    constexpr int h = k / 2, g0 = 2 * (k & 1), g1 = g0 + 1;
    const __m512i lo =
        gf2_halves(broadcast32(u.p + 32 + 32 * h), gf2_move(2 * g0, 2, 0), gf2_move(2 * g1, 2, 0));
    const __m512i hb =
        gf2_halves(broadcast32(u.p), gf2_move(4 * h + g0, 1, 2), gf2_move(4 * h + g1, 1, 2));
    cv = _mm512_or_si512(lo, hb);
    ws = per_group<k>(u.sc);
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// q2_K: scales[16] | qs[64] | f16 d | f16 dmin. Element 128c + 32g + l = (qs[32c + l] >> 2g) & 3;
// group j (16 elements) has scale d * (scales[j] & 15) and offset -dmin * (scales[j] >> 4).
struct FusedQ2K {
  static constexpr int kUnitCols = 256, kUnitBytes = 84, kChunks = 4, kZero = 0;
  static constexpr bool kNarrow = true, kOffset = true, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 sc, off;
  };
  static Unit load(const uint8_t* p) {
    const __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(s, _mm512_set1_epi32(15)));
    const __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(s, 4));
    return {p, _mm512_mul_ps(lo, broadcast_f16(p + 80)),
            _mm512_mul_ps(hi, _mm512_xor_ps(broadcast_f16(p + 82), _mm512_set1_ps(-0.f)))};
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    constexpr int c = k / 2, g0 = 2 * (k & 1), g1 = g0 + 1;
    cv = gf2_halves(broadcast32(u.p + 16 + 32 * c), gf2_move(2 * g0, 2, 0), gf2_move(2 * g1, 2, 0));
    ws = per_group<k>(u.sc);
  }
  static __m512 offsets(const Unit& u) { return u.off; }
};

// q6_K: ql[128] | qh[64] | int8 scales[16] | f16 d; value = d * scale[e / 16] * (code - 32).
// Half h (elements 128h..128h+127): element 128h + 32q + l has low bits from ql[64h + 32(q&1)
// + l] (low nibble for q < 2, high for q >= 2) and high bits (qh[32h + l] >> 2q) & 3. Chunk k
// is half k / 2, quarters 2(k & 1) and 2(k & 1) + 1.
struct FusedQ6K {
  static constexpr int kUnitCols = 256, kUnitBytes = 210, kChunks = 4, kZero = 32;
  static constexpr bool kNarrow = true, kOffset = false, kGrouped = false;
  struct Unit {
    const uint8_t* p;
    __m512 sc;  // d * scale per 16-element group
  };
  static Unit load(const uint8_t* p) {
    const __m512 s = _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192))));
    return {p, _mm512_mul_ps(s, broadcast_f16(p + 208))};  // x 1.03-1.07 tg64 q6k on Zen 5
  }
  template <int k>
  static void chunk(const Unit& u, __m512i& cv, __m512& ws) {
    cv = codes<k>(u.p);
    ws = per_group<k>(u.sc);
  }
  // Chunk k's 64 codes (0..63) in column order.
  template <int k>
  static __m512i codes(const uint8_t* p) {
    constexpr int h = k / 2, s = k & 1;
    // Nibble s of ql moved to bits 0..3 by a GF(2) affine op (port 0); the two high bits of
    // quarter 2s + p / 32 of qh to bits 4..5 by a byte-granular bit select (port 5), junk
    // above them masked by the merge.
    static constexpr auto kHighShift = high_shift(s);
    const __m512i lo = _mm512_gf2p8affine_epi64_epi8(
        _mm512_loadu_si512(p + 64 * h),
        _mm512_set1_epi64(static_cast<long long>(gf2_move(4 * s, 4, 0))), 0);
    const __m512i hb =
        _mm512_multishift_epi64_epi8(bytes_index(kHighShift), broadcast32(p + 128 + 32 * h));
    // lo | (hb & 0x30)
    return _mm512_ternarylogic_epi32(lo, hb, _mm512_set1_epi8(0x30), 0xF8);
  }
  // vpmultishiftqb control: output byte p takes the 8 bits of its qword starting 4 below bit
  // 2q of its own byte (q = 2s + p / 32), so those two bits land in bits 4..5.
  static constexpr std::array<uint8_t, 64> high_shift(int s) {
    std::array<uint8_t, 64> a{};
    for (int p = 0; p < 64; ++p)
      a[p] = static_cast<uint8_t>((8 * (p % 8) + 2 * (2 * s + p / 32) - 4) & 63);
    return a;
  }
  static __m512 offsets(const Unit&) { return _mm512_setzero_ps(); }
};

// Grouped rounded mode (OperandRounding::kActivationGroup16Stride32, prepare_row_grouped): the four
// 64-byte digit slots of a unit share their lane scales, so a unit is summed in int32 and converted
// once. The integer dot of each slot must then carry the sub-block scales itself: operand<g>()
// prepares slot g's weights, accumulate() adds their dot with the slot's digits, scales included.

// vpermb index base of q2_K's plane g: byte p (element 128(p / 32) + 32g + p % 32) belongs to
// 16-element group 8(p / 32) + 2g + (p % 32) / 16, whose four products sit at 4 * group.
template <int g>
constexpr std::array<uint8_t, 64> q2k_group_index() {
  std::array<uint8_t, 64> a{};
  for (int p = 0; p < 64; ++p)
    a[p] = static_cast<uint8_t>(4 * (8 * (p / 32) + 2 * g + p % 32 / 16));
  return a;
}

// q2_K, grouped: a 64-entry table holds code * scale (<= 45) for the 16 groups' 4 codes; the
// index of each weight is 4 * group | code, one ternary-logic op from the packed byte.
struct GroupedQ2K {
  static constexpr int kUnitCols = 256, kUnitBytes = 84, kChunks = 4, kZero = 0;
  static constexpr bool kOffset = true, kGrouped = true;
  static constexpr bool kNegOffset = true;  // offsets() holds +dmin * m: subtracted
  struct Unit {
    __m512i qs, table;
    __m512 off, d;
  };
  static Unit load(const uint8_t* p) {
    const __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    // d, dmin in every even, odd lane: a broadcast load and one conversion instead of two
    // scalar f16 conversions and broadcasts.
    uint32_t dd;
    __builtin_memcpy(&dd, p + 80, 4);
    const __m512 dpair = _mm512_cvtph_ps(_mm256_set1_epi32(static_cast<int>(dd)));
    // Dword j = scale_j * (0, 1, 2, 3) in its bytes.
    const __m512i table = _mm512_mullo_epi32(_mm512_and_si512(s, _mm512_set1_epi32(15)),
                                             _mm512_set1_epi32(0x03020100));
    return {_mm512_loadu_si512(p + 16), table,
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(s, 4)), _mm512_movehdup_ps(dpair)),
            _mm512_moveldup_ps(dpair)};
  }
  using Operand = __m512i;  // scale * code per byte
  template <int g>
  static __m512i operand(const Unit& u) {
    static constexpr auto kIdx = q2k_group_index<g>();
    // Plane g to the low bits: a byte-granular bit select (port 5) rather than a word shift
    // (port 0, which the vpdpbusd also needs).
    const __m512i planes =
        g == 0 ? u.qs
               : _mm512_multishift_epi64_epi8(
                     _mm512_set1_epi64(0x3830282018100800ll + 0x0202020202020202ll * g), u.qs);
    // (planes & 3) | group index
    const __m512i idx =
        _mm512_ternarylogic_epi32(planes, _mm512_set1_epi8(3), bytes_index(kIdx), 0xEA);
    return _mm512_permutexvar_epi8(idx, u.table);
  }
  static __m512i accumulate(__m512i a, __m512i w, __m512i xd) {
    return _mm512_dpbusd_epi32(a, w, xd);
  }
  static __m512 offsets(const Unit& u) { return u.off; }
  static __m512 scale(const Unit& u) { return u.d; }
};

// q3_K, grouped: same planes as q2_K (element 128h + 32g + l: bits 2g of qs[32h + l], bit
// 4h + g of hmask[l] adds 4). A slot's 64 weights belong to 4 of the 16 groups, so slots 2P and
// 2P + 1 share one 64-entry table of 8 groups x 8 codes, indexed 8 * local group | code. The
// signed products (scale - 32) * (code - 4) in [-124, 128] are stored + 127 as bytes; the +127
// is taken back by the activation side's zero-point correction (-127 * digit sums).
struct GroupedQ3K {
  static constexpr int kUnitCols = 256, kUnitBytes = 110, kChunks = 4, kZero = 127;
  static constexpr bool kOffset = false, kGrouped = true;
  using Operand = __m512i;
  struct Unit {
    const uint8_t* p;
    __m512i table[2];  // slots 0, 1 and slots 2, 3
    __m512 d;
  };
  // Table P, local group lg (dwords 2lg, 2lg + 1 = codes 0..3, 4..7): group 8(lg / 4) + 4P +
  // lg % 4.
  static constexpr std::array<int, 16> table_groups(int P) {
    std::array<int, 16> a{};
    for (int i = 0; i < 16; ++i) a[i] = 8 * (i / 8) + 4 * P + (i / 2) % 4;
    return a;
  }
  // Byte p of slot g: local group 4(p / 32) + 2(g % 2) + (p % 32) / 16, shifted to bits 3..5.
  static constexpr std::array<uint8_t, 64> local_group_bits(int g) {
    std::array<uint8_t, 64> a{};
    for (int p = 0; p < 64; ++p)
      a[p] = static_cast<uint8_t>(8 * (4 * (p / 32) + 2 * (g % 2) + p % 32 / 16));
    return a;
  }
  static Unit load(const uint8_t* p) {
    const __m512i sc = _mm512_cvtepu8_epi32(q3k_scale_bytes_vbmi(p + 96));
    uint16_t dh;
    __builtin_memcpy(&dh, p + 108, 2);
    // Bytes c of each 8-byte entry: (c - 4) * sc + 255 - 32c = (c - 4)(sc - 32) + 127, in
    // [3, 255]; as dwords sc * K1 + K0 with no carries between the bytes.
    constexpr auto k1lo = static_cast<int>(0xFEFDFCFCu);  // sum (c - 4) 256^c, c < 4
    constexpr int k1hi = 0x03020100, k0lo = static_cast<int>(0x9FBFDFFFu), k0hi = 0x1F3F5F7F;
    const __m512i mul = _mm512_setr_epi32(k1lo, k1hi, k1lo, k1hi, k1lo, k1hi, k1lo, k1hi, k1lo,
                                          k1hi, k1lo, k1hi, k1lo, k1hi, k1lo, k1hi);
    const __m512i add = _mm512_setr_epi32(k0lo, k0hi, k0lo, k0hi, k0lo, k0hi, k0lo, k0hi, k0lo,
                                          k0hi, k0lo, k0hi, k0lo, k0hi, k0lo, k0hi);
    static constexpr auto kG0 = table_groups(0), kG1 = table_groups(1);
    Unit u;
    u.p = p;
    u.table[0] = _mm512_add_epi32(
        _mm512_mullo_epi32(_mm512_permutexvar_epi32(_mm512_loadu_si512(kG0.data()), sc), mul), add);
    u.table[1] = _mm512_add_epi32(
        _mm512_mullo_epi32(_mm512_permutexvar_epi32(_mm512_loadu_si512(kG1.data()), sc), mul), add);
    u.d = _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(dh)));
    return u;
  }
  template <int g>
  static __m512i operand(const Unit& u) {
    static constexpr auto kLg = local_group_bits(g);
    const __m512i lo = _mm512_gf2p8affine_epi64_epi8(
        _mm512_loadu_si512(u.p + 32),
        _mm512_set1_epi64(static_cast<long long>(gf2_move(2 * g, 2, 0))), 0);
    const __m512i hb = gf2_halves(broadcast32(u.p), gf2_move(g, 1, 2), gf2_move(4 + g, 1, 2));
    const __m512i idx = _mm512_ternarylogic_epi32(lo, hb, bytes_index(kLg), 0xFE);  // a | b | c
    return _mm512_permutexvar_epi8(idx, u.table[g / 2]);
  }
  static __m512i accumulate(__m512i a, __m512i w, __m512i xd) {
    return _mm512_dpbusd_epi32(a, w, xd);
  }
  static __m512 scale(const Unit& u) { return u.d; }
};

// Unit u of R rows against M activation rows prepared by prepare_row_grouped.
template <class T, int M, int R>
inline void grouped_unit(const typename T::Unit (&units)[R], const uint8_t* const* prep,
                         const PrepLayout& L, int64_t u, __m512 (&acc)[R][M]) {
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) {
    const typename T::Operand w[4] = {
        T::template operand<0>(units[j]), T::template operand<1>(units[j]),
        T::template operand<2>(units[j]), T::template operand<3>(units[j])};
    const __m512 d = T::scale(units[j]);
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const int8_t* xd = reinterpret_cast<const int8_t*>(prep[i]) + 4 * u * kParts * 64;
      // One chain of four vpdpbusd: its latency is hidden by the other rows of the block.
      __m512i a = T::kZero != 0 ? _mm512_load_si512(prep[i] + L.zc_off + 4 * 256 * u)
                                : _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g)
        a = T::accumulate(a, w[g], _mm512_load_si512(xd + g * kParts * 64));
      const __m512 sx = _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sx_off) + 64 * u);
      acc[j][i] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), sx), d, acc[j][i]);
    }
  }
}

// T::offsets() holds the negated offsets (T::kNegOffset, saving a negation per unit).
template <class T>
constexpr bool neg_offset() {
  if constexpr (requires { T::kNegOffset; })
    return T::kNegOffset;
  else
    return false;
}

// Chunk k of unit u for R rows and M activation rows.
template <class T, int k, int M, int R, bool kRound>
inline void dot_unit_chunk(const typename T::Unit (&units)[R], const uint8_t* const* prep,
                           const PrepLayout& L, int64_t c, __m512 (&acc)[R][M]) {
  __m512i cv[R];
  __m512 ws[R];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) T::template chunk<k>(units[j], cv[j], ws[j]);
  dot_rows_chunk<M, R, T::kNarrow, (T::kZero != 0), kRound>(cv, ws, prep, L, c, acc);
}

template <class T, int M, int R, bool kRound, int k = 0>
inline void dot_unit(const typename T::Unit (&units)[R], const uint8_t* const* prep,
                     const PrepLayout& L, int64_t c0, __m512 (&acc)[R][M]) {
  if constexpr (k < T::kChunks) {
    dot_unit_chunk<T, k, M, R, kRound>(units, prep, L, c0 + k, acc);
    dot_unit<T, M, R, kRound, k + 1>(units, prep, L, c0, acc);
  }
}

// Rows longer than kPrefetchAheadBytes are prefetched that far ahead in memory, which near a
// row's end runs into the next row of its stripe (it follows in memory). Shorter rows keep
// prefetching the same unit of the next row block, one row ahead. A whole row ahead of an
// 8192-column row (q8_0 8.7 KB, q6k 6.7 KB) in each of four streams kept ~30 KB of prefetched lines
// waiting in L1 beside the activations: the down projection streamed at 0.82-0.83 of the gate/up
// projection's rate in the same run (q6k and q8_0, 4 runs each), and at 0.91-0.94 (q6k) and
// 0.84-0.88 (q8_0, whose exact-mode activations take 56 KB more) 2 KB ahead; 1 KB and 4 KB were in
// between (q8_0, rounded).

// Rows r + j * rs (j < R): every unit of the R rows, then y. With each unit it prefetches the
// same unit of rows next + j * rs, j < ahead (the next call's rows), or for long rows the line
// kPrefetchAheadBytes bytes ahead in each of the R rows.
template <class T, int M, int R, bool kRound>
void fused_rows(const QuantProblem& p, int64_t r, int64_t rs, int64_t next, int ahead,
                const uint8_t* const* prep, const PrepLayout& L) {
  const int64_t n_units = p.cols / T::kUnitCols;
  // Software prefetch of the next row block while this one is computed: with each unit, the
  // same unit of the next block's rows. Issued unconditionally (a line already requested costs
  // one load slot): the byte-budget loop of Prefetcher branched unpredictably for units that
  // are not a multiple of 64 bytes. The decode-to-buffer path keeps Prefetcher: its steps are
  // 64-column chunks of a fraction of a line, and Prefetcher made branch-free in the same way
  // (a fixed line count per step) was slower there and for the K-quant units here (best of 3-4:
  // afq4 11.2 -> 8.5, q4_1 10.5 -> 9.0, q6k hot 23.8 -> 18.5 GB/s).
  const uint8_t* next0 = p.w + static_cast<size_t>(next) * p.row_bytes;
  const size_t stride = static_cast<size_t>(rs) * p.row_bytes;
  if (p.row_bytes > kPrefetchAheadBytes) {
    next0 = p.w + static_cast<size_t>(r) * p.row_bytes + kPrefetchAheadBytes;
    ahead = R;
  }
  constexpr int kLines = (T::kUnitBytes + 63) / 64 + (T::kUnitBytes % 64 != 0 ? 1 : 0);
  __m512 acc[R][M];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[j][i] = _mm512_setzero_ps();
  const uint8_t* row0 = p.w + static_cast<size_t>(r) * p.row_bytes;
  for (int64_t u = 0; u < n_units; ++u) {
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j)
      if (j < ahead)
#pragma GCC unroll 8
        for (int l = 0; l < kLines; ++l)
          _mm_prefetch(
              reinterpret_cast<const char*>(next0 + j * stride + u * T::kUnitBytes + 64 * l),
              _MM_HINT_T0);
    typename T::Unit units[R];
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) units[j] = T::load(row0 + j * stride + u * T::kUnitBytes);
    if constexpr (T::kGrouped)
      grouped_unit<T, M, R>(units, prep, L, u, acc);
    else
      dot_unit<T, M, R, kRound>(units, prep, L, u * T::kChunks, acc);
    if constexpr (T::kOffset) {
      static_assert(T::kUnitCols == 256, "one 16-group sum vector per unit");
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) {
        const __m512 off = T::offsets(units[j]);
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          const __m512 sums =
              _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sum_off) + 16 * u);
          acc[j][i] = neg_offset<T>() ? _mm512_fnmadd_ps(off, sums, acc[j][i])
                                      : _mm512_fmadd_ps(off, sums, acc[j][i]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = _mm512_reduce_add_ps(acc[j][i]);
}

template <class T, int M, bool kRound>
void fused_m(const QuantProblem& p, int64_t r0, int64_t r1) {
  constexpr int R = M <= 2 ? 4 : 2;
  const PrepLayout L(p.cols);
  const uint8_t* prep[M];
  for (int i = 0; i < M; ++i) prep[i] = static_cast<const uint8_t*>(p.xprep) + i * L.stride;
  for_each_row_stripe_block<R>(
      r0, r1,
      [&](int64_t r, int64_t rs, int64_t next, int ahead) {
        fused_rows<T, M, R, kRound>(p, r, rs, next, ahead, prep, L);
      },
      [&](int64_t r, int64_t rs, int64_t next, int ahead) {
        fused_rows<T, M, 1, kRound>(p, r, rs, next, ahead, prep, L);
      });
}

template <class T, bool kRound>
void fused_type_m(const QuantProblem& p, int64_t r0, int64_t r1) {
  switch (p.m) {
    case 1: fused_m<T, 1, kRound>(p, r0, r1); break;
    case 2: fused_m<T, 2, kRound>(p, r0, r1); break;
    case 3: fused_m<T, 3, kRound>(p, r0, r1); break;
    default: fused_m<T, 4, kRound>(p, r0, r1); break;
  }
}

template <class T>
void fused_type(const QuantProblem& p, int64_t r0, int64_t r1) {
  if constexpr (T::kGrouped)  // only ever called in rounded mode
    fused_type_m<T, true>(p, r0, r1);
  else if (p.round_x)
    fused_type_m<T, true>(p, r0, r1);
  else
    fused_type_m<T, false>(p, r0, r1);
}

}  // namespace

bool quant_gemv_fused_supported(QuantType type, int64_t cols) {
  switch (type) {
    case QuantType::kQ4_0: return cols % 128 == 0;
    case QuantType::kMxfp4:
    case QuantType::kF8Q8:
    case QuantType::kQ5_0:
    case QuantType::kQ8_0:
    case QuantType::kQ8_1: return cols % 64 == 0;
    case QuantType::kQ2K:
    case QuantType::kQ3K:
    case QuantType::kQ4K:
    case QuantType::kQ5K:
    case QuantType::kQ6K:
    case QuantType::kQ8K:
    case QuantType::kAfq2:
    case QuantType::kAfq3:
    case QuantType::kAfq4:
    case QuantType::kAfq6:
    case QuantType::kAfq8:
    case QuantType::kQ4_1:
    case QuantType::kQ5_1:
    case QuantType::kHqq4:
    case QuantType::kHqq8: return cols % 256 == 0;
    default: return false;
  }
}

int quant_gemv_fused_grouped_zero(QuantType type) {
  return type == QuantType::kQ3K ? GroupedQ3K::kZero : 0;
}

OperandRounding quant_gemv_fused_grouped_rounding(QuantType type) {
  // INSITU_GEMV_GROUPED=0 keeps the per-lane rounding (A/B benchmarks of the grouped kernels).
  static const bool off = [] {
    const char* e = std::getenv("INSITU_GEMV_GROUPED");
    return e != nullptr && std::string_view(e) == "0";
  }();
  if (off) return OperandRounding::kNone;
  switch (type) {
    case QuantType::kQ2K:
    case QuantType::kQ3K: return OperandRounding::kActivationGroup16Stride32;
    default: return OperandRounding::kNone;
  }
}

void quant_gemv_fused(const QuantProblem& p, int64_t r0, int64_t r1) {
  const auto grouped = [](const QuantProblem& q) {
    return q.round_x && quant_gemv_fused_grouped_rounding(q.type) != OperandRounding::kNone;
  };
  switch (p.type) {
    case QuantType::kQ4_0: fused_type<FusedQ4_0>(p, r0, r1); break;
    case QuantType::kQ8_0: fused_type<FusedQ8_0>(p, r0, r1); break;
    case QuantType::kQ8_1: fused_type<FusedQ8_1>(p, r0, r1); break;
    case QuantType::kQ5_0: fused_type<FusedQ5_0>(p, r0, r1); break;
    case QuantType::kQ8K: fused_type<FusedQ8K>(p, r0, r1); break;
    case QuantType::kQ4K: fused_type<FusedQ4K>(p, r0, r1); break;
    case QuantType::kQ6K: fused_type<FusedQ6K>(p, r0, r1); break;
    case QuantType::kQ2K:
      grouped(p) ? fused_type<GroupedQ2K>(p, r0, r1) : fused_type<FusedQ2K>(p, r0, r1);
      break;
    case QuantType::kQ3K:
      grouped(p) ? fused_type<GroupedQ3K>(p, r0, r1) : fused_type<FusedQ3K>(p, r0, r1);
      break;
    case QuantType::kQ5K: fused_type<FusedQ5K>(p, r0, r1); break;
    case QuantType::kAfq2: fused_type<FusedAfq<2>>(p, r0, r1); break;
    case QuantType::kAfq3: fused_type<FusedAfq<3>>(p, r0, r1); break;
    case QuantType::kAfq4: fused_type<FusedAfq<4>>(p, r0, r1); break;
    case QuantType::kAfq6: fused_type<FusedAfq<6>>(p, r0, r1); break;
    case QuantType::kAfq8: fused_type<FusedAfq<8>>(p, r0, r1); break;
    case QuantType::kQ4_1: fused_type<FusedQ4_1>(p, r0, r1); break;
    case QuantType::kQ5_1: fused_type<FusedQ5_1>(p, r0, r1); break;
    case QuantType::kHqq4: fused_type<FusedHqq<4>>(p, r0, r1); break;
    case QuantType::kHqq8: fused_type<FusedHqq<8>>(p, r0, r1); break;
    case QuantType::kMxfp4: fused_type<FusedMxfp4>(p, r0, r1); break;
    case QuantType::kF8Q8: fused_type<FusedF8Q8>(p, r0, r1); break;
    default: break;
  }
}

}  // namespace insitu::kernels::avx512
