// The bf16 VNNI tile layout shared by the AMX GEMMs (amx/) and the AVX-512 BF16 GEMM
// (quant_gemm_bf16_avx512.cpp): activations as A tiles (16 rows x 32 bf16, contiguous), weights
// as B tiles (16 K pairs x 16 output rows x 2 bf16), and the f32 -> bf16 hi/lo split. Plain
// AVX-512 BF16 code: include from AVX-512 or AMX translation units.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::bf16_tiles {
namespace {

inline constexpr int64_t kTileU16 = 512;  // one 1 KiB tile in bf16 units

inline int64_t round_up(int64_t v, int64_t a) {
  return (v + a - 1) / a * a;
}

// 32 f32 values (v0: first 16) -> bf16 hi and lo = (v - hi) rounded, 32 each; hi + lo equals
// v to ~2^-17 relative.
inline void split_bf16(__m512 v0, __m512 v1, __m512i* hi, __m512i* lo) {
  const __m512i h = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0));
  const __m512 h0 = LoadBF16::widen(_mm512_castsi512_si256(h));
  const __m512 h1 = LoadBF16::widen(_mm512_extracti64x4_epi64(h, 1));
  *hi = h;
  *lo =
      reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_sub_ps(v1, h1), _mm512_sub_ps(v0, h0)));
}

// Activation planes (hi at 0, lo after), each [m_pad / 16 row blocks][k_pad / 32 steps] tiles of
// 16 x 32 bf16 stored contiguously, so an A tile load reads 64-byte rows back to back. Loading
// 16 rows straight from an [m][k] matrix strides them k * 2 bytes apart, a multiple of 4 KiB
// for every model width: all 16 rows fall into one L1 set, and those loads took more time than
// the tile products (perf: 27% of the quantized GEMM's samples on two A loads).
inline size_t a_plane_u16(int64_t m, int64_t k_pad) {
  return round_up(m, 32) * k_pad;
}
inline size_t a_tiles_bytes(int64_t m, int64_t k_pad) {
  return 2 * sizeof(uint16_t) * a_plane_u16(m, k_pad);
}
template <class U16>  // uint16_t or const uint16_t
inline U16* a_tile(U16* plane, int64_t k_pad, int64_t row_block, int64_t ks) {
  return plane + (row_block * (k_pad / 32) + ks) * kTileU16;
}

// Fills activation rows [i0, i1) of the planes from x [m][cols] (columns past cols are zero);
// the chunk ending at m also zeroes the pad rows up to a multiple of 32. with_lo false: only
// the hi plane (x rounded to bf16) is written.
inline void prepare_a_tiles(const float* x, int64_t m, int64_t cols, int64_t k_pad, int64_t i0,
                            int64_t i1, void* out, bool with_lo = true) {
  auto* hi_plane = static_cast<uint16_t*>(out);
  uint16_t* lo_plane = hi_plane + a_plane_u16(m, k_pad);
  const int64_t iend = i1 == m ? round_up(m, 32) : i1;
  for (int64_t i = i0; i < iend; ++i) {
    const float* xi = x + i * cols;
    for (int64_t k = 0; k < k_pad; k += 32) {
      __m512i hi = _mm512_setzero_si512(), lo = _mm512_setzero_si512();
      if (i < m) {
        const int64_t nk = cols - k > 32 ? 32 : cols - k;
        const __m512 v0 = _mm512_maskz_loadu_ps(tail_mask16(nk), xi + k);
        const __m512 v1 = _mm512_maskz_loadu_ps(tail_mask16(nk > 16 ? nk - 16 : 0), xi + k + 16);
        if (with_lo)
          split_bf16(v0, v1, &hi, &lo);
        else
          hi = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0));
      }
      const int64_t in_tile = (i % 16) * 32;
      _mm512_storeu_si512(a_tile(hi_plane, k_pad, i / 16, k / 32) + in_tile, hi);
      if (with_lo) _mm512_storeu_si512(a_tile(lo_plane, k_pad, i / 16, k / 32) + in_tile, lo);
    }
  }
}

// Decodes blocks [b0, b0 + nbl) of the `nvalid` rows starting at row r (of a 16-row tile; a
// group start when p.row_groups) to f32, row j at buf + j * buf_stride. A row-group tile's block
// columns are put back in the row format in `group_rows` first (L1-sized), so the weights are
// still read once, as the tiles are staged.
inline void decode_tile_rows(const QuantProblem& p, const avx512::QuantDecoder& dec, int64_t r,
                             int64_t nvalid, int64_t b0, int64_t nbl, float* buf,
                             int64_t buf_stride, uint8_t* group_rows) {
  if (nvalid <= 0) return;
  const uint8_t* first = p.w + static_cast<size_t>(r) * p.row_bytes;
  if (p.row_groups) {
    const size_t stride = static_cast<size_t>(nbl) * dec.block_bytes;
    avx512::unpack_group_columns(p.type, first + b0 * 16 * dec.block_bytes, nbl, group_rows,
                                 stride);
    for (int64_t j = 0; j < nvalid; ++j)
      dec.values(group_rows + j * stride, 0, nbl, buf + j * buf_stride);
  } else {
    for (int64_t j = 0; j < nvalid; ++j)
      dec.values(first + j * p.row_bytes, b0, nbl, buf + j * buf_stride);
  }
}

// Stages rows [r, r + nrows) x columns [kc, kc + kcl) (kcl a multiple of the block size):
// tile(plane, nbk, ks) at ((plane * nblk16 + nbk) * ksteps + ks) * kTileU16; rows past nrows
// are zero. A row-group matrix (r a multiple of 16): each 16-row tile is one group
// (decode_tile_rows).
template <bool kHiOnly>
void stage_b_tiles(const QuantProblem& p, const avx512::QuantDecoder& dec, int64_t r, int64_t nrows,
                   int64_t kc, int64_t kcl, int64_t nblk16, uint16_t* out, float* buf,
                   int64_t buf_stride, uint8_t* group_rows) {
  const int64_t ksteps = kcl / 32;
  const int64_t b0 = kc / dec.block, nbl = kcl / dec.block;
  for (int64_t nbk = 0; nbk < nblk16; ++nbk) {
    const int64_t nvalid = nrows - nbk * 16 < 16 ? nrows - nbk * 16 : 16;
    decode_tile_rows(p, dec, r + nbk * 16, nvalid, b0, nbl, buf, buf_stride, group_rows);
    for (int64_t ks = 0; ks < ksteps; ++ks) {
      __m512i hi[16], lo[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j < nvalid) {
          const float* v = buf + j * buf_stride + ks * 32;
          if constexpr (kHiOnly)
            hi[j] = reinterpret_cast<__m512i>(
                _mm512_cvtne2ps_pbh(_mm512_load_ps(v + 16), _mm512_load_ps(v)));
          else
            split_bf16(_mm512_load_ps(v), _mm512_load_ps(v + 16), &hi[j], &lo[j]);
        } else {
          hi[j] = lo[j] = _mm512_setzero_si512();
        }
      }
      transpose16x16_epi32(hi);
      if constexpr (!kHiOnly) transpose16x16_epi32(lo);
      uint16_t* th = out + (nbk * ksteps + ks) * kTileU16;
      uint16_t* tl = out + ((nblk16 + nbk) * ksteps + ks) * kTileU16;
#pragma GCC unroll 16
      for (int kp = 0; kp < 16; ++kp) {
        _mm512_store_si512(th + kp * 32, hi[kp]);
        if constexpr (!kHiOnly) _mm512_store_si512(tl + kp * 32, lo[kp]);
      }
    }
  }
}

}  // namespace
}  // namespace insitu::kernels::bf16_tiles
