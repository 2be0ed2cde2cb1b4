// AMX-BF16 GEMM for quantized weights (prefill) and the AMX quantized kernel table (decode
// reuses the AVX-512 VNNI GEMV: it is memory bound).
//
// Weights: each thread stages kNb rows x kKc columns at a time. The rows' blocks are decoded
// to f32 (quant_decode_avx512.h, exact dequantized values up to one rounding), split into
// w = w_hi + w_lo (both bf16, round to nearest even) and stored as VNNI B tiles by 16x16
// transposes. The decode costs a few instructions per weight and is amortised over all m
// activation rows, which is why one f32 decode serves every quantized type.
// Activations: split once per call into x = x_hi + x_lo (bf16 planes in A-tile order, zero
// padded to 32 rows).
// y = w_hi x_hi + w_hi x_lo + w_lo x_hi in f32 tiles: the dropped terms (x residual, w
// residual, w_lo x_lo) are each below 2^-16 |w x| (~1e-6 relative in practice, measured in
// tests/kernels/quant_matmul_test.cpp). AMX reads bf16 denormals as zero.
// With QuantProblem::round_x (OperandRounding::kBf16) only the hi planes exist and each K step
// is one tile product, y = w_hi x_hi: a third of the tile work and half the staging.
#include <cstring>

#include "kernels/cpu/x86/amx/amx_common.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::amxq {
namespace {

constexpr int64_t kNb = 128;  // weight rows staged together (multiple of 32)
constexpr int64_t kKc = 512;  // columns staged together (multiple of every block size)
using amx_common::a_tile;
using amx_common::kTileU16;
using amx_common::round_up;
using amx_common::split_bf16;

// Scratch: [2 planes][kNb / 16][kKc / 32] tiles, a [16][kKc] f32 decode buffer, then the
// row block's C tiles (amx_common::CBlock).
constexpr size_t kStageBytes = 2 * kNb * kKc * sizeof(uint16_t);
constexpr size_t kDecodeBytes = 16 * kKc * sizeof(float);

// Stages rows [r, r + nrows) x columns [kc, kc + kcl) (kcl a multiple of the block size):
// tile(plane, nbk, ks) at ((plane * nblk16 + nbk) * ksteps + ks) * kTileU16; rows past nrows
// are zero.
template <bool kHiOnly>
void stage(const QuantProblem& p, const avx512::QuantDecoder& dec, int64_t r, int64_t nrows,
           int64_t kc, int64_t kcl, int64_t nblk16, uint16_t* out, float* buf) {
  const int64_t ksteps = kcl / 32;
  for (int64_t nbk = 0; nbk < nblk16; ++nbk) {
    const int64_t nvalid = nrows - nbk * 16 < 16 ? nrows - nbk * 16 : 16;
    for (int64_t j = 0; j < nvalid; ++j)
      dec.values(p.w + static_cast<size_t>(r + nbk * 16 + j) * p.row_bytes, kc / dec.block,
                 kcl / dec.block, buf + j * kKc);
    for (int64_t ks = 0; ks < ksteps; ++ks) {
      __m512i hi[16], lo[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j < nvalid) {
          const float* v = buf + j * kKc + ks * 32;
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

size_t prep_bytes(int64_t m, int64_t cols) {
  return amx_common::a_tiles_bytes(m, cols);
}

// Activations as A tiles (amx_common.h); cols is a multiple of 32 for every quantized type.
void prepare_x(QuantType, const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
               bool round_x, void* out) {
  amx_common::prepare_a_tiles(x, m, cols, cols, i0, i1, out, /*with_lo=*/!round_x);
}

OperandRounding fast_rounding(QuantType) {
  return OperandRounding::kBf16;
}

// C tiles 0..3 = [activation half a][output half b] at 2a + b; B tiles 4, 5; A tiles 6, 7.
// xh0/xh1 (xl0/xl1): the A tiles of the two 16-row activation halves at the first K step;
// consecutive K steps are consecutive tiles.

// One K step of y += w_hi x_hi on the 2x2 C block (B tiles b0, b1; A tiles a0, a1). Leaves
// the B tiles in 4, 5 and the A tiles in 6, 7 for tile_block's further products.
inline void hi_step(const uint16_t* a0, const uint16_t* a1, const uint16_t* b0,
                    const uint16_t* b1) {
  _tile_loadd(4, b0, 64);
  _tile_loadd(5, b1, 64);
  _tile_loadd(6, a0, 64);
  _tile_loadd(7, a1, 64);
  _tile_dpbf16ps(0, 6, 4);
  _tile_dpbf16ps(1, 6, 5);
  _tile_dpbf16ps(2, 7, 4);
  _tile_dpbf16ps(3, 7, 5);
}

// Rounded operands: y = w_hi x_hi, one tile product per K step and tile pair.
inline void tile_block_hi(const uint16_t* xh0, const uint16_t* xh1, const uint16_t* b0,
                          const uint16_t* b1, int64_t ksteps) {
  for (int64_t ks = 0; ks < ksteps; ++ks) {
    const int64_t o = ks * kTileU16;
    hi_step(xh0 + o, xh1 + o, b0 + o, b1 + o);
  }
}

// Exact: y = w_hi x_hi + w_lo x_hi + w_hi x_lo, reusing the loaded tiles (8 loads per step).
inline void tile_block(const uint16_t* xh0, const uint16_t* xh1, const uint16_t* xl0,
                       const uint16_t* xl1, const uint16_t* b0, const uint16_t* b1,
                       int64_t plane_u16, int64_t ksteps) {
  for (int64_t ks = 0; ks < ksteps; ++ks) {
    const int64_t o = ks * kTileU16;
    hi_step(xh0 + o, xh1 + o, b0 + o, b1 + o);
    _tile_loadd(4, b0 + plane_u16 + o, 64);  // w_lo x x_hi
    _tile_loadd(5, b1 + plane_u16 + o, 64);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
    _tile_loadd(4, b0 + o, 64);  // w_hi x x_lo
    _tile_loadd(5, b1 + o, 64);
    _tile_loadd(6, xl0 + o, 64);
    _tile_loadd(7, xl1 + o, 64);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
  }
}

void gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx512::QuantDecoder& dec = avx512::quant_decoder(p.type);
  amx_common::configure_tiles_16x64();

  const int64_t m = p.m, m_pad = round_up(m, 32), K = p.cols;
  const auto* x_hi = static_cast<const uint16_t*>(p.xprep);
  const uint16_t* x_lo = x_hi + m_pad * K;
  auto* stage_buf = static_cast<uint16_t*>(scratch);
  auto* decode_buf = reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes);
  auto* cbuf =
      reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes + kDecodeBytes);

  for (int64_t nb = r0; nb < r1; nb += kNb) {
    const int64_t nrows = r1 - nb < kNb ? r1 - nb : kNb;
    const int64_t nblk32 = (nrows + 31) / 32, nblk16 = 2 * nblk32;
    const amx_common::CBlock cb{cbuf, nblk16};
    for (int64_t kc = 0; kc < K; kc += kKc) {
      const int64_t kcl = K - kc < kKc ? K - kc : kKc, ksteps = kcl / 32;
      if (p.round_x)
        stage<true>(p, dec, nb, nrows, kc, kcl, nblk16, stage_buf, decode_buf);
      else
        stage<false>(p, dec, nb, nrows, kc, kcl, nblk16, stage_buf, decode_buf);
      const int64_t plane_u16 = nblk16 * ksteps * kTileU16;
      for (int64_t jb = 0; jb < m_pad; jb += 32) {
        const int64_t nact = m - jb < 32 ? m - jb : 32;
        const int64_t a16 = jb / 16;
        for (int64_t rb = 0; rb < nblk32; ++rb) {
          const int64_t col0 = nb + rb * 32;
          const int64_t ncol = nb + nrows - col0 < 32 ? nb + nrows - col0 : 32;
          cb.begin(kc == 0, a16, rb);
          const uint16_t* b0 = stage_buf + (2 * rb) * ksteps * kTileU16;
          const uint16_t* b1 = b0 + ksteps * kTileU16;
          const int64_t ks0 = kc / 32;
          if (p.round_x)
            tile_block_hi(a_tile(x_hi, K, a16, ks0), a_tile(x_hi, K, a16 + 1, ks0), b0, b1, ksteps);
          else
            tile_block(a_tile(x_hi, K, a16, ks0), a_tile(x_hi, K, a16 + 1, ks0),
                       a_tile(x_lo, K, a16, ks0), a_tile(x_lo, K, a16 + 1, ks0), b0, b1, plane_u16,
                       ksteps);
          cb.end(kc + kcl >= K, a16, rb, p.y, p.rows, col0, nact, ncol);
        }
      }
    }
  }
  _tile_release();
}

size_t scratch_bytes(QuantType, int64_t, int64_t m) {
  return kStageBytes + kDecodeBytes + amx_common::c_buffer_bytes(m, kNb);
}

const QuantKernelSet kAmxSet = {
    "avx512-vnni",
    "amx",
    avx512::kQuantGemvMaxM,
    {avx512::quant_gemv, 16, avx512::quant_gemv_scratch_bytes, avx512::quant_gemv_prep_bytes,
     avx512::quant_gemv_prepare_x, avx512::quant_gemv_fast_rounding},
    {gemm, 32, scratch_bytes, prep_bytes, prepare_x, fast_rounding},
    avx512::quant_gemv_groups_supported,
    avx512::kQuantGemvGroupsPath,
};

}  // namespace
}  // namespace insitu::kernels::amxq

namespace insitu::kernels {
const QuantKernelSet& quant_kernels_amx() {
  return amxq::kAmxSet;
}
}  // namespace insitu::kernels
