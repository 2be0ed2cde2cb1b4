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
// Tiles: A = activations [16 rows x 32 k] from the prepared bf16 planes (A-tile order); B =
// weights in the VNNI layout ([16 k-pairs][16 outputs][2]), which is staged per thread block
// (kNb rows x kKc columns) by 16x16 32-bit transposes; C = [16 activations x 16 outputs] f32,
// which is exactly the layout of y, so accumulators are loaded/stored in y directly.
#include <cstring>

#include "kernels/cpu/x86/amx/amx_common.h"
#include "kernels/cpu/x86/avx512/avx512_kernels.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::amx {
namespace {

constexpr int64_t kNb = 256;  // weight rows staged together (multiple of 32)
constexpr int64_t kKc = 512;  // columns staged together (multiple of 32)
using amx_common::a_tile;
using amx_common::kTileU16;
using amx_common::round_up;
using amx_common::split_bf16;

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

// Activation planes as A tiles (amx_common.h), columns zero padded to a multiple of 32.
size_t prep_bytes(int64_t m, int64_t cols) {
  return amx_common::a_tiles_bytes(m, round_up(cols, 32));
}

void prepare_x(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1, void* out) {
  amx_common::prepare_a_tiles(x, m, cols, round_up(cols, 32), i0, i1, out);
}

// Accumulates a 32 (activations) x 32 (outputs) block over ksteps k-steps of 32:
// C tiles 0..3 = [act half a][output half b] at 2a + b; B tiles 4, 5; A tiles 6, 7.
// xh0/xh1 (xl0/xl1): the A tiles of the two 16-row activation halves at the first k-step;
// consecutive k-steps are consecutive tiles.
template <int kPlanes>
inline void tile_block(const uint16_t* xh0, const uint16_t* xh1, const uint16_t* xl0,
                       const uint16_t* xl1, const uint16_t* b0, const uint16_t* b1,
                       int64_t plane_u16, int64_t ksteps) {
  for (int64_t ks = 0; ks < ksteps; ++ks) {
    const int64_t o = ks * kTileU16;
    _tile_loadd(4, b0 + o, 64);
    _tile_loadd(5, b1 + o, 64);
    _tile_loadd(6, xh0 + o, 64);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_loadd(7, xl0 + o, 64);
    _tile_dpbf16ps(0, 7, 4);
    _tile_dpbf16ps(1, 7, 5);
    _tile_loadd(6, xh1 + o, 64);
    _tile_dpbf16ps(2, 6, 4);
    _tile_dpbf16ps(3, 6, 5);
    _tile_loadd(7, xl1 + o, 64);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
    if constexpr (kPlanes == 2) {  // w_lo * x_hi
      _tile_loadd(4, b0 + plane_u16 + o, 64);
      _tile_loadd(5, b1 + plane_u16 + o, 64);
      _tile_loadd(6, xh0 + o, 64);
      _tile_dpbf16ps(0, 6, 4);
      _tile_dpbf16ps(1, 6, 5);
      _tile_loadd(7, xh1 + o, 64);
      _tile_dpbf16ps(2, 7, 4);
      _tile_dpbf16ps(3, 7, 5);
    }
  }
}

template <class S>
void gemm(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch) {
  amx_common::configure_tiles_16x64();

  const int64_t m = p.m, m_pad = round_up(m, 32), k_pad = round_up(p.cols, 32);
  const uint16_t* x_hi = static_cast<const uint16_t*>(p.xprep);
  const uint16_t* x_lo = x_hi + m_pad * k_pad;
  uint16_t* stage = static_cast<uint16_t*>(scratch);
  auto* cbuf = reinterpret_cast<float*>(stage + static_cast<size_t>(S::kPlanes) * kNb * kKc);

  for (int64_t nb = r0; nb < r1; nb += kNb) {
    const int64_t nrows = r1 - nb < kNb ? r1 - nb : kNb;
    const int64_t nblk32 = (nrows + 31) / 32, nblk16 = 2 * nblk32;
    const amx_common::CBlock cb{cbuf, nblk16};
    for (int64_t kc = 0; kc < k_pad; kc += kKc) {
      const int64_t kcl = k_pad - kc < kKc ? k_pad - kc : kKc, ksteps = kcl / 32;
      stage_weights<S>(p, nb, nrows, kc, kcl, nblk16, stage);
      const int64_t plane_u16 = nblk16 * ksteps * kTileU16;
      for (int64_t jb = 0; jb < m_pad; jb += 32) {
        const int64_t nact = m - jb < 32 ? m - jb : 32;
        const int64_t a16 = jb / 16;
        for (int64_t rb = 0; rb < nblk32; ++rb) {
          const int64_t col0 = nb + rb * 32;
          const int64_t ncol = nb + nrows - col0 < 32 ? nb + nrows - col0 : 32;
          cb.begin(kc == 0, a16, rb);
          const uint16_t* b0 = stage + (2 * rb) * ksteps * kTileU16;
          const uint16_t* b1 = b0 + ksteps * kTileU16;
          const int64_t ks0 = kc / 32;
          tile_block<S::kPlanes>(a_tile(x_hi, k_pad, a16, ks0), a_tile(x_hi, k_pad, a16 + 1, ks0),
                                 a_tile(x_lo, k_pad, a16, ks0), a_tile(x_lo, k_pad, a16 + 1, ks0),
                                 b0, b1, plane_u16, ksteps);
          cb.end(kc + kcl >= k_pad, a16, rb, p.y, p.rows, col0, nact, ncol);
        }
      }
    }
  }
  _tile_release();
}

// Staged weight planes, then the row block's C tiles (amx_common::CBlock).
size_t scratch_bytes(int type, int64_t, int64_t m) {
  const int planes = type == 2 ? 1 : 2;
  return static_cast<size_t>(planes) * kNb * kKc * sizeof(uint16_t) +
         amx_common::c_buffer_bytes(m, kNb);
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
const DenseKernelSet& dense_kernels_amx() {
  return amx::kAmxSet;
}
}  // namespace insitu::kernels
