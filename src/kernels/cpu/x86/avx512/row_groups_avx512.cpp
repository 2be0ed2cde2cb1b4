// Conversion of row-group matrices (quant/layout/row_groups.h) back to the row format with
// AVX-512: the same bytes as insitu::unpack_row_groups, which copies one 4-byte word or f16 at a
// time. Prefill converts every row-group matrix slice by slice before its GEMM
// (kernels/matmul_quant.cpp); with the scalar copies the conversion took ~11% of a q6_K pp512
// (perf); the AMX GEMM now unpacks each 16-row tile's block columns as it stages them
// (unpack_group_columns), so the weights are read once, interleaved with its tile products.
// A word field of a block column is 16 rows x n words, word u of the 16 rows one 64-byte
// vector: up to 16 such vectors are transposed in registers and each row's words stored at
// once. Byte and f16 fields (16 x 1 or 2 bytes per block column) stay scalar. q3_K's code words
// (quant/layout/q3k_group_codes.h) are first turned back into ggml's hmask and qs words, three
// GF(2) bit moves and an OR per 64 bytes.
#include <cstring>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/layout/q3k_group_codes.h"
#include "quant/layout/row_groups.h"

namespace insitu::kernels::avx512 {
namespace {

// Up to 4 words of 16 rows (word u of the rows at field + 64u) to row r at out + r * row_bytes:
// 4x4 dword transposes within each 128-bit lane (a 16x16 transpose would spend 3/4 of its
// shuffles on zeros).
inline void store_rows_of_4_words(const uint8_t* field, int words, uint8_t* out, size_t row_bytes) {
  __m512i v[4];
  for (int u = 0; u < 4; ++u)
    v[u] = u < words ? _mm512_loadu_si512(field + 64 * u) : _mm512_setzero_si512();
  const __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
  // Lane L of r[k]: the words of row 4L + k.
  const __m512i r[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                        _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
  const __mmask16 keep = static_cast<__mmask16>((1u << words) - 1);
  for (int k = 0; k < 4; ++k) {
    _mm512_mask_storeu_epi32(out + k * row_bytes, keep, r[k]);
    _mm512_mask_storeu_epi32(out + (4 + k) * row_bytes - 16, keep << 4, r[k]);
    _mm512_mask_storeu_epi32(out + (8 + k) * row_bytes - 32, keep << 8, r[k]);
    _mm512_mask_storeu_epi32(out + (12 + k) * row_bytes - 48, keep << 12, r[k]);
  }
}

// gf2p8affine matrix of the bits that q3_K's source byte s (q3k_group_codes::Source) takes
// from code byte o (X, Y, Z).
constexpr uint64_t q3k_source_from_code(int s, int o) {
  uint64_t m = 0;
  for (int b = 0; b < 8; ++b) {
    const q3k_group_codes::BitFrom f = q3k_group_codes::kBits[o][b];
    if (f.source == s) m |= gf2_move(b, 1, f.bit);
  }
  return m;
}

// q3k_group_codes::from_codes with AVX-512: the column's code words to ggml's words in `out`.
inline void q3k_from_codes(const uint8_t* column, uint8_t* out) {
  using namespace q3k_group_codes;
  for (int w = 0; w < 8; ++w) {
    const __m512i c[3] = {_mm512_loadu_si512(column + 64 * (3 * w)),
                          _mm512_loadu_si512(column + 64 * (3 * w + 1)),
                          _mm512_loadu_si512(column + 64 * (3 * w + 2))};
    for (int s = 0; s < 3; ++s) {
      __m512i part[3];
      for (int o = 0; o < 3; ++o)
        part[o] = _mm512_gf2p8affine_epi64_epi8(
            c[o], _mm512_set1_epi64(static_cast<long long>(q3k_source_from_code(s, o))), 0);
      _mm512_storeu_si512(out + 64 * source_word(static_cast<Source>(s), w),
                          _mm512_ternarylogic_epi32(part[0], part[1], part[2], 0xFE));  // OR
    }
  }
}

}  // namespace

void unpack_group_columns(QuantType t, const uint8_t* columns, int64_t ncols, uint8_t* dst,
                          size_t dst_stride) {
  const QuantTypeInfo& info = quant_info(t);
  const size_t block = info.bytes_per_block;
  alignas(64) uint8_t recoded[q3k_group_codes::kCodeBytes];
  for (int64_t b = 0; b < ncols; ++b) {
    const uint8_t* column = columns + b * kRowGroupRows * block;
    // q3_K: its code words back to ggml's hmask and qs (the column's first kCodeBytes bytes).
    const uint8_t* codes = column;
    if (t == QuantType::kQ3K) {
      q3k_from_codes(column, recoded);
      codes = recoded;
    }
    uint8_t* first = dst + b * block;  // row 0's block; row r's is r * dst_stride further
    size_t off = 0;
    for (int k = 0; k < info.fields.count; ++k) {
      const size_t bytes = info.fields.bytes[k];
      const size_t at = kRowGroupRows * off;
      const uint8_t* field =
          at < q3k_group_codes::kCodeBytes && codes != column ? codes + at : column + at;
      if (bytes == 1) {  // MXFP4's exponents
        for (int r = 0; r < kRowGroupRows; ++r) first[r * dst_stride + off] = field[r];
      } else if (bytes == 2) {
        for (int r = 0; r < kRowGroupRows; ++r)
          std::memcpy(first + r * dst_stride + off, field + 2 * r, 2);
      } else if (bytes <= 16) {  // q4_0's codes, the K-quants' scales: 4x4 transposes per lane
        store_rows_of_4_words(field, static_cast<int>(bytes / 4), first + off, dst_stride);
      } else {
        const int words = static_cast<int>(bytes / 4);
        for (int u0 = 0; u0 < words; u0 += 16) {
          const int n = words - u0 < 16 ? words - u0 : 16;
          __m512i v[16];
          for (int i = 0; i < 16; ++i)
            v[i] = i < n ? _mm512_loadu_si512(field + 64 * (u0 + i)) : _mm512_setzero_si512();
          transpose16x16_epi32(v);  // v[r]: row r's words u0..u0 + 15
          const __mmask16 keep = static_cast<__mmask16>((1u << n) - 1);
          for (int r = 0; r < kRowGroupRows; ++r)
            _mm512_mask_storeu_epi32(first + r * dst_stride + off + 4 * u0, keep, v[r]);
        }
      }
      off += bytes;
    }
  }
}

void unpack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  const QuantTypeInfo& info = quant_info(t);
  const int64_t nb = cols / info.block_size;
  const size_t row_bytes = nb * info.bytes_per_block;
  for (int64_t g = 0; g < rows; g += kRowGroupRows)
    unpack_group_columns(t, src + g * row_bytes, nb, dst + g * row_bytes, row_bytes);
}

}  // namespace insitu::kernels::avx512
