// AMX-BF16 GEMM for dense weights (prefill) and the AMX kernel table (decode reuses the
// AVX-512 GEMV: it is memory bound and AMX would not help).
//
// Precision scheme (AMX multiplies bf16 pairs and accumulates in f32):
//  * activations are split once per call into x = x_hi + x_lo, both bf16 (round to nearest
//    even), so x_hi + x_lo equals x to ~2^-17 relative;
//  * bf16 weights are exact in one plane; f16 and f32 weights are split the same way into
//    w_hi + w_lo (exact for f16: 11 significant bits = 8 + 3);
//  * y = w_hi*x_hi + w_hi*x_lo (+ w_lo*x_hi): the dropped terms (x residual, w_lo*x_lo) are
//    each below 2^-18 of |w*x|, i.e. the result is f32-grade (~1e-6 relative), not bf16-grade.
// AMX treats bf16 denormal inputs as zero, so products of magnitude below ~1e-38 are lost.
//
// Tiles: A = activations [16 rows x 32 k] read straight from the prepared bf16 planes; B =
// weights in the VNNI layout ([16 k-pairs][16 outputs][2]), which is staged per thread block
// (kNb rows x kKc columns) by 16x16 32-bit transposes; C = [16 activations x 16 outputs] f32,
// which is exactly the layout of y, so accumulators are loaded/stored in y directly.
#include <cstring>

#include "kernels/cpu/x86/avx512/avx512_kernels.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::amx {
namespace {

constexpr int64_t kNb = 256;  // weight rows staged together (multiple of 32)
constexpr int64_t kKc = 512;  // columns staged together (multiple of 32)
constexpr int64_t kTileU16 = 512;  // one 1 KiB tile in bf16 units

inline int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Splits 32 f32 values (v0 = first 16, v1 = next 16) into bf16 hi and lo vectors.
inline void split_bf16(__m512 v0, __m512 v1, __m512i* hi, __m512i* lo) {
  const __m512i h = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0));
  const __m512 h0 = LoadBF16::widen(_mm512_castsi512_si256(h));
  const __m512 h1 = LoadBF16::widen(_mm512_extracti64x4_epi64(h, 1));
  *hi = h;
  *lo = reinterpret_cast<__m512i>(
      _mm512_cvtne2ps_pbh(_mm512_sub_ps(v1, h1), _mm512_sub_ps(v0, h0)));
}

inline __mmask32 tail_mask32(int64_t n) {
  return n >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << n) - 1u);
}

// Weight loaders: 32 columns [k0, k0 + nk) of one row (nk <= 32, the rest zero) as bf16 hi
// (and lo for types that need two planes).
struct StageBF16 {
  static constexpr int kPlanes = 1;
  static void load(const uint8_t* row, int64_t k0, int64_t nk, __m512i* hi, __m512i*) {
    *hi = _mm512_maskz_loadu_epi16(tail_mask32(nk), row + 2 * k0);
  }
};
struct StageF16 {
  static constexpr int kPlanes = 2;
  static void load(const uint8_t* row, int64_t k0, int64_t nk, __m512i* hi, __m512i* lo) {
    const __m512 v0 = LoadF16::load_mask(row, k0, tail_mask16(nk));
    const __m512 v1 = LoadF16::load_mask(row, k0 + 16, tail_mask16(nk > 16 ? nk - 16 : 0));
    split_bf16(v0, v1, hi, lo);
  }
};
struct StageF32 {
  static constexpr int kPlanes = 2;
  static void load(const uint8_t* row, int64_t k0, int64_t nk, __m512i* hi, __m512i* lo) {
    const __m512 v0 = LoadF32::load_mask(row, k0, tail_mask16(nk));
    const __m512 v1 = LoadF32::load_mask(row, k0 + 16, tail_mask16(nk > 16 ? nk - 16 : 0));
    split_bf16(v0, v1, hi, lo);
  }
};

// Stages rows [r, r + nrows) x columns [kc, kc + kcl) into VNNI tiles:
// tile(plane, nbk, ks) at ((plane * nblk16 + nbk) * ksteps + ks) * kTileU16, rows past nrows
// and columns past cols are zero.
template <class S>
void stage_weights(const DenseProblem& p, int64_t r, int64_t nrows, int64_t kc, int64_t kcl,
                   int64_t nblk16, uint16_t* out) {
  const int64_t ksteps = kcl / 32;
  for (int64_t nbk = 0; nbk < nblk16; ++nbk) {
    for (int64_t ks = 0; ks < ksteps; ++ks) {
      const int64_t k0 = kc + ks * 32;
      const int64_t nk = p.cols - k0 < 0 ? 0 : (p.cols - k0 > 32 ? 32 : p.cols - k0);
      __m512i hi[16], lo[16];
      #pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        const int64_t row = nbk * 16 + j;
        if (row < nrows && nk > 0) {
          S::load(p.w + static_cast<size_t>(r + row) * p.row_bytes, k0, nk, &hi[j], &lo[j]);
        } else {
          hi[j] = lo[j] = _mm512_setzero_si512();
        }
      }
      transpose16x16_epi32(hi);
      uint16_t* t = out + (nbk * ksteps + ks) * kTileU16;
      #pragma GCC unroll 16
      for (int kp = 0; kp < 16; ++kp) _mm512_storeu_si512(t + kp * 32, hi[kp]);
      if constexpr (S::kPlanes == 2) {
        transpose16x16_epi32(lo);
        t = out + ((nblk16 + nbk) * ksteps + ks) * kTileU16;
        #pragma GCC unroll 16
        for (int kp = 0; kp < 16; ++kp) _mm512_storeu_si512(t + kp * 32, lo[kp]);
      }
    }
  }
}

// Activation planes: hi at offset 0, lo after it, each [m_pad][k_pad] bf16, zero padded.
size_t prep_bytes(int64_t m, int64_t cols) {
  return 2 * sizeof(uint16_t) * static_cast<size_t>(round_up(m, 32) * round_up(cols, 32));
}

void prepare_x(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1, void* out) {
  const int64_t m_pad = round_up(m, 32), k_pad = round_up(cols, 32);
  uint16_t* hi_plane = static_cast<uint16_t*>(out);
  uint16_t* lo_plane = hi_plane + m_pad * k_pad;
  // The chunk that ends at m also zeroes the padding rows.
  const int64_t iend = i1 == m ? m_pad : i1;
  for (int64_t i = i0; i < iend; ++i) {
    const float* xi = x + i * cols;
    for (int64_t k = 0; k < k_pad; k += 32) {
      __m512i hi = _mm512_setzero_si512(), lo = _mm512_setzero_si512();
      if (i < m) {
        const int64_t nk = cols - k > 32 ? 32 : cols - k;
        const __m512 v0 = _mm512_maskz_loadu_ps(tail_mask16(nk), xi + k);
        const __m512 v1 = _mm512_maskz_loadu_ps(tail_mask16(nk > 16 ? nk - 16 : 0), xi + k + 16);
        split_bf16(v0, v1, &hi, &lo);
      }
      _mm512_storeu_si512(hi_plane + i * k_pad + k, hi);
      _mm512_storeu_si512(lo_plane + i * k_pad + k, lo);
    }
  }
}

// Accumulates a 32 (activations) x 32 (outputs) block over ksteps k-steps of 32:
// C tiles 0..3 = [act half a][output half b] at 2a + b; B tiles 4, 5; A tiles 6, 7.
template <int kPlanes>
inline void tile_block(const uint16_t* xh, const uint16_t* xl, int64_t x_stride_bytes,
                       const uint16_t* b0, const uint16_t* b1, int64_t plane_u16,
                       int64_t ksteps) {
  const int64_t x16 = 16 * x_stride_bytes / 2;  // 16 activation rows, in bf16 units
  for (int64_t ks = 0; ks < ksteps; ++ks) {
    const int64_t bo = ks * kTileU16, xo = ks * 32;
    _tile_loadd(4, b0 + bo, 64);
    _tile_loadd(5, b1 + bo, 64);
    _tile_loadd(6, xh + xo, x_stride_bytes);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_loadd(7, xl + xo, x_stride_bytes);
    _tile_dpbf16ps(0, 7, 4);
    _tile_dpbf16ps(1, 7, 5);
    _tile_loadd(6, xh + x16 + xo, x_stride_bytes);
    _tile_dpbf16ps(2, 6, 4);
    _tile_dpbf16ps(3, 6, 5);
    _tile_loadd(7, xl + x16 + xo, x_stride_bytes);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
    if constexpr (kPlanes == 2) {  // w_lo * x_hi
      _tile_loadd(4, b0 + plane_u16 + bo, 64);
      _tile_loadd(5, b1 + plane_u16 + bo, 64);
      _tile_loadd(6, xh + xo, x_stride_bytes);
      _tile_dpbf16ps(0, 6, 4);
      _tile_dpbf16ps(1, 6, 5);
      _tile_loadd(7, xh + x16 + xo, x_stride_bytes);
      _tile_dpbf16ps(2, 7, 4);
      _tile_dpbf16ps(3, 7, 5);
    }
  }
}

template <class S>
void gemm(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch) {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  #pragma GCC unroll 16
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);

  const int64_t m = p.m, m_pad = round_up(m, 32), k_pad = round_up(p.cols, 32);
  const uint16_t* x_hi = static_cast<const uint16_t*>(p.xprep);
  const uint16_t* x_lo = x_hi + m_pad * k_pad;
  const int64_t x_stride = k_pad * 2;
  uint16_t* stage = static_cast<uint16_t*>(scratch);
  alignas(64) float ctmp[32 * 32];
  std::memset(ctmp, 0, sizeof(ctmp));

  for (int64_t nb = r0; nb < r1; nb += kNb) {
    const int64_t nrows = r1 - nb < kNb ? r1 - nb : kNb;
    const int64_t nblk32 = (nrows + 31) / 32, nblk16 = 2 * nblk32;
    for (int64_t kc = 0; kc < k_pad; kc += kKc) {
      const int64_t kcl = k_pad - kc < kKc ? k_pad - kc : kKc, ksteps = kcl / 32;
      stage_weights<S>(p, nb, nrows, kc, kcl, nblk16, stage);
      const int64_t plane_u16 = nblk16 * ksteps * kTileU16;
      for (int64_t jb = 0; jb < m_pad; jb += 32) {
        const int64_t nact = m - jb < 32 ? m - jb : 32;
        for (int64_t rb = 0; rb < nblk32; ++rb) {
          const int64_t col0 = nb + rb * 32;
          const int64_t ncol = nb + nrows - col0 < 32 ? nb + nrows - col0 : 32;
          const bool direct = nact == 32 && ncol == 32;
          float* c = direct ? p.y + jb * p.rows + col0 : ctmp;
          const int64_t ldc = direct ? p.rows : 32;
          if (kc == 0) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
          } else {
            if (!direct)
              for (int64_t i = 0; i < nact; ++i)
                std::memcpy(ctmp + i * 32, p.y + (jb + i) * p.rows + col0, ncol * 4);
            _tile_loadd(0, c, ldc * 4);
            _tile_loadd(1, c + 16, ldc * 4);
            _tile_loadd(2, c + 16 * ldc, ldc * 4);
            _tile_loadd(3, c + 16 * ldc + 16, ldc * 4);
          }
          const uint16_t* b0 = stage + (2 * rb) * ksteps * kTileU16;
          const uint16_t* b1 = b0 + ksteps * kTileU16;
          tile_block<S::kPlanes>(x_hi + jb * k_pad + kc, x_lo + jb * k_pad + kc, x_stride, b0,
                                 b1, plane_u16, ksteps);
          _tile_stored(0, c, ldc * 4);
          _tile_stored(1, c + 16, ldc * 4);
          _tile_stored(2, c + 16 * ldc, ldc * 4);
          _tile_stored(3, c + 16 * ldc + 16, ldc * 4);
          if (!direct)
            for (int64_t i = 0; i < nact; ++i)
              std::memcpy(p.y + (jb + i) * p.rows + col0, ctmp + i * 32, ncol * 4);
        }
      }
    }
  }
  _tile_release();
}

size_t scratch_bytes(int type, int64_t) {
  const int planes = type == 2 ? 1 : 2;
  return static_cast<size_t>(planes) * kNb * kKc * sizeof(uint16_t);
}

const DenseKernelSet kAmxSet = {
    "amx",
    {avx512::gemv_f32, avx512::gemv_f16, avx512::gemv_bf16},
    {gemm<StageF32>, gemm<StageF16>, gemm<StageBF16>},
    32,
    scratch_bytes,
    prep_bytes,
    prepare_x,
};

}  // namespace
}  // namespace insitu::kernels::amx

namespace insitu::kernels {
const DenseKernelSet& dense_kernels_amx() { return amx::kAmxSet; }
}  // namespace insitu::kernels
