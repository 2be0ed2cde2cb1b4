// AVX2 row dequantizers for the registry's non-ggml formats (see quant_decode_avx2.h): AFQ
// (quant/afq), HQQ (quant/hqq), fp8 and f8q8 (quant/fp8), MXFP4 (quant/mxfp4). Each block
// function is the vector transcription of that format's reference dequantizer, with its float
// operations in the same order, so the values are bit-identical (NaN codes and signed zeros
// included). Without these, AVX2 hosts decoded these types through the scalar reference
// (~1 tok/s on a 1B model).
#include <immintrin.h>

#include <array>
#include <cstdint>

#include "kernels/cpu/x86/avx2/decode_blocks_avx2.h"
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"
#include "quant/fp8/fp8.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu::kernels::avx2 {
namespace {

// ---- AFQ (group 64: f16 scale | f16 bias | little-endian bit stream of kBits-bit codes) -------
// value = code * scale + bias.
//
// Codes 8i..8i+7 (kBits * 8 bits from stream byte kBits * i) become 8 dword lanes: the 8 stream
// bytes at kAfqLoad[i] are broadcast to both 128-bit halves, a byte shuffle puts the (at most
// two) bytes holding code 8i + L into dword L, a variable shift drops the bits below it. The
// load never passes the group's code bytes (the last chunks load from an earlier offset).
template <int kBits>
struct AfqChunks {
  static constexpr int kCodeBytes = 8 * kBits;  // 64 codes
  struct Tables {
    int load[8];  // stream byte of the 8-byte load of chunk i
    alignas(32) uint8_t shuf[8][32];
    alignas(32) uint32_t shift[8][8];
  };
  static constexpr Tables make() {
    Tables t{};
    for (int i = 0; i < 8; ++i) {
      const int first = kBits * i;
      const int load = first + 8 <= kCodeBytes ? first : kCodeBytes - 8;
      t.load[i] = load;
      for (int lane = 0; lane < 8; ++lane) {
        const int bit = 8 * (first - load) + kBits * lane;  // within the 8 loaded bytes
        const int byte = bit / 8;
        for (int k = 0; k < 4; ++k) {
          const int src = byte + k;
          // pshufb indexes within each 128-bit half: both halves hold the same 8 bytes.
          t.shuf[i][4 * lane + k] = (k < 2 && src < 8) ? static_cast<uint8_t>(src) : 0x80;
        }
        t.shift[i][lane] = static_cast<uint32_t>(bit % 8);
      }
    }
    return t;
  }
  static constexpr Tables kTables = make();
};

template <int kBits>
void blk_afq(const uint8_t* b, float* out) {
  using C = AfqChunks<kBits>;
  const __m256 scale = _mm256_set1_ps(half_at(b)), bias = _mm256_set1_ps(half_at(b + 2));
  const __m256i mask = _mm256_set1_epi32((1 << kBits) - 1);
  const uint8_t* q = b + 4;
  for (int i = 0; i < 8; ++i) {
    long long bytes;
    std::memcpy(&bytes, q + C::kTables.load[i], 8);
    const __m256i sh = _mm256_shuffle_epi8(
        _mm256_set1_epi64x(bytes),
        _mm256_load_si256(reinterpret_cast<const __m256i*>(C::kTables.shuf[i])));
    const __m256i codes = _mm256_and_si256(
        _mm256_srlv_epi32(sh,
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(C::kTables.shift[i]))),
        mask);
    const __m256 v = rounded(_mm256_mul_ps(_mm256_cvtepi32_ps(codes), scale));
    _mm256_storeu_ps(out + 8 * i, _mm256_add_ps(v, bias));
  }
}

// ---- HQQ (group 64: f32 scale | f32 zero | codes); value = (q - zero) * scale ---------------

// out[j] = (level[j] - zero) * scale for 32 levels.
inline void put_sub_mul(float* out, __m256i lv, __m256 zero, __m256 scale) {
  const Levels32 q(lv);
  for (int k = 0; k < 4; ++k)
    _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(_mm256_sub_ps(q.f[k], zero), scale));
}

// 4-bit: byte k = q[k] << 4 | q[k + 32].
void blk_hqq4(const uint8_t* b, float* out) {
  const __m256 scale = _mm256_set1_ps(f32_at(b)), zero = _mm256_set1_ps(f32_at(b + 4));
  const __m256i v = load256(b + 8);
  put_sub_mul(out, and8(srli16(v, 4), 0x0F), zero, scale);
  put_sub_mul(out + 32, and8(v, 0x0F), zero, scale);
}
// 8-bit codes are unsigned: Levels32 converts signed bytes, so they go through the u8 path.
void blk_hqq8(const uint8_t* b, float* out) {
  const __m256 scale = _mm256_set1_ps(f32_at(b)), zero = _mm256_set1_ps(f32_at(b + 4));
  for (int k = 0; k < 8; ++k) {
    const __m256 q = _mm256_cvtepi32_ps(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 8 + 8 * k))));
    _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(_mm256_sub_ps(q, zero), scale));
  }
}

// ---- FP8 (128: f32 d | e4m3 q[128]); value = e4m3(q) * d ------------------------------------

// 8 e4m3 codes (the 16-bit lanes s: each code sign-extended) as f32. Placed as the f16
// S.0EEEE.MMM0000000 a code is its value times 2^-8, subnormals included (both formats'
// subnormal steps scale alike; F16C converts exactly), and times 256 is exact. Codes S.1111.111
// are NaN in e4m3: they become the reference's quiet NaN with the code's sign.
inline __m256 e4m3x8_to_f32(__m128i s) {
  const __m128i h = _mm_and_si128(_mm_slli_epi16(s, 7), _mm_set1_epi16(static_cast<short>(0xBF80)));
  __m256 f = _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_set1_ps(256.f));
  const __m128i nan16 = _mm_cmpeq_epi16(_mm_or_si128(s, _mm_set1_epi16(static_cast<short>(0xFF80))),
                                        _mm_set1_epi16(-1));
  if (__builtin_expect(!_mm_testz_si128(nan16, nan16), 0)) {
    const __m256 is_nan = _mm256_castsi256_ps(_mm256_cvtepi16_epi32(nan16));
    const __m256 sign = _mm256_and_ps(f, _mm256_set1_ps(-0.f));
    const __m256 nan = _mm256_or_ps(sign, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)));
    f = _mm256_blendv_ps(f, nan, is_nan);
  }
  return f;
}

void blk_fp8(const uint8_t* b, float* out) {
  const __m256 d = _mm256_set1_ps(f32_at(b));
  for (int k = 0; k < 8; ++k) {
    const __m256i s = _mm256_cvtepi8_epi16(load128(b + 4 + 16 * k));
    _mm256_storeu_ps(out + 16 * k, _mm256_mul_ps(e4m3x8_to_f32(_mm256_castsi256_si128(s)), d));
    _mm256_storeu_ps(out + 16 * k + 8,
                     _mm256_mul_ps(e4m3x8_to_f32(_mm256_extracti128_si256(s, 1)), d));
  }
}

// ---- F8Q8 (32: u8 e4m3 d | int8 q[32]); value = q * (e4m3(d) / 448) -------------------------

void blk_f8q8(const uint8_t* b, float* out) {
  const __m256 d = _mm256_set1_ps(fp8::f8q8_block_scales()[b[0]]);
  put_scaled(out, load256(b + 1), d, d);
}

// ---- MXFP4 (32: u8 e8m0 | qs[16], low nibbles first); value = e2m1(nibble) * 2^(e - 127) ----
// Computed as (2 * e2m1) * 2^(e - 128): both factors and the product are exact (the product
// overflows to infinity exactly where the reference's ldexp does), and the nibble's sign bit
// goes onto the magnitude first, so code 8 is -0 as in the reference.
inline __m256 e2m1x8_times2(__m128i nibbles8) {
  const __m256i c = _mm256_cvtepu8_epi32(nibbles8);
  const __m256 mag = _mm256_permutevar8x32_ps(_mm256_setr_ps(0, 1, 2, 3, 4, 6, 8, 12), c);
  const __m256i sign = _mm256_and_si256(_mm256_slli_epi32(c, 28), _mm256_set1_epi32(INT32_MIN));
  return _mm256_or_ps(mag, _mm256_castsi256_ps(sign));
}

void blk_mxfp4(const uint8_t* b, float* out) {
  const __m256 s = _mm256_set1_ps(mxfp4::pow2_e8m0_half(b[0]));
  const __m128i q = load128(b + 1), m = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(q, m), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
  _mm256_storeu_ps(out, _mm256_mul_ps(e2m1x8_times2(lo), s));
  _mm256_storeu_ps(out + 8, _mm256_mul_ps(e2m1x8_times2(_mm_srli_si128(lo, 8)), s));
  _mm256_storeu_ps(out + 16, _mm256_mul_ps(e2m1x8_times2(hi), s));
  _mm256_storeu_ps(out + 24, _mm256_mul_ps(e2m1x8_times2(_mm_srli_si128(hi, 8)), s));
}

constexpr int afq_bytes(int bits) {
  return 4 + 8 * bits;
}

}  // namespace

DequantBlocksFn afq_hqq_fp_dequantizer(QuantType t) {
  using QT = QuantType;
  switch (t) {
    case QT::kAfq2: return vector_rows<blk_afq<2>, 64, afq_bytes(2)>;
    case QT::kAfq3: return vector_rows<blk_afq<3>, 64, afq_bytes(3)>;
    case QT::kAfq4: return vector_rows<blk_afq<4>, 64, afq_bytes(4)>;
    case QT::kAfq6: return vector_rows<blk_afq<6>, 64, afq_bytes(6)>;
    case QT::kAfq8: return vector_rows<blk_afq<8>, 64, afq_bytes(8)>;
    case QT::kHqq4: return vector_rows<blk_hqq4, 64, 40>;
    case QT::kHqq8: return vector_rows<blk_hqq8, 64, 72>;
    case QT::kFp8: return vector_rows<blk_fp8, fp8::kFp8Block, sizeof(fp8::BlockFp8)>;
    case QT::kF8Q8: return vector_rows<blk_f8q8, 32, sizeof(fp8::BlockF8Q8)>;
    case QT::kMxfp4: return vector_rows<blk_mxfp4, mxfp4::kBlock, sizeof(mxfp4::BlockMxfp4)>;
    default: return nullptr;
  }
}

}  // namespace insitu::kernels::avx2
