// AMX-BF16 GEMM for quantized weights (prefill) and the AMX quantized kernel table (decode
// reuses the AVX-512 VNNI GEMV: it is memory bound).
//
// Weights: each thread stages kNb rows x kKc columns at a time. The rows' blocks are decoded
// to f32 (quant_decode_avx512.h, exact dequantized values up to one rounding), split into
// w = w_hi + w_lo (both bf16, round to nearest even) and stored as VNNI B tiles by 16x16
// transposes. The decode costs a few instructions per weight and is amortised over all m
// activation rows, which is why one f32 decode serves every quantized type.
// Activations: split once per call into x = x_hi + x_lo (bf16 planes, zero padded to 32 rows).
// y = w_hi x_hi + w_hi x_lo + w_lo x_hi in f32 tiles: the dropped terms (x residual, w
// residual, w_lo x_lo) are each below 2^-16 |w x| (~1e-6 relative in practice, measured in
// tests/kernels/quant_matmul_test.cpp). AMX reads bf16 denormals as zero.
#include <cstring>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::amxq {
namespace {

constexpr int64_t kNb = 128;       // weight rows staged together (multiple of 32)
constexpr int64_t kKc = 512;       // columns staged together (multiple of every block size)
constexpr int64_t kTileU16 = 512;  // one 1 KiB tile in bf16 units

inline int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// 32 f32 values (v0: first 16) -> bf16 hi and lo (v - hi, rounded), 32 each.
inline void split32(__m512 v0, __m512 v1, __m512i* hi, __m512i* lo) {
  const __m512i h = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0));
  const __m512 h0 = LoadBF16::widen(_mm512_castsi512_si256(h));
  const __m512 h1 = LoadBF16::widen(_mm512_extracti64x4_epi64(h, 1));
  *hi = h;
  *lo = reinterpret_cast<__m512i>(
      _mm512_cvtne2ps_pbh(_mm512_sub_ps(v1, h1), _mm512_sub_ps(v0, h0)));
}

// Scratch: [2 planes][kNb / 16][kKc / 32] tiles, then a [16][kKc] f32 decode buffer.
constexpr size_t kStageBytes = 2 * kNb * kKc * sizeof(uint16_t);
constexpr size_t kScratchBytes = kStageBytes + 16 * kKc * sizeof(float);

// Stages rows [r, r + nrows) x columns [kc, kc + kcl) (kcl a multiple of the block size):
// tile(plane, nbk, ks) at ((plane * nblk16 + nbk) * ksteps + ks) * kTileU16; rows past nrows
// are zero.
void stage(const QuantProblem& p, const avx512::QuantDecoder& dec, int64_t r, int64_t nrows, int64_t kc,
           int64_t kcl, int64_t nblk16, uint16_t* out, float* buf) {
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
          split32(_mm512_load_ps(v), _mm512_load_ps(v + 16), &hi[j], &lo[j]);
        } else {
          hi[j] = lo[j] = _mm512_setzero_si512();
        }
      }
      transpose16x16_epi32(hi);
      transpose16x16_epi32(lo);
      uint16_t* th = out + (nbk * ksteps + ks) * kTileU16;
      uint16_t* tl = out + ((nblk16 + nbk) * ksteps + ks) * kTileU16;
      #pragma GCC unroll 16
      for (int kp = 0; kp < 16; ++kp) {
        _mm512_store_si512(th + kp * 32, hi[kp]);
        _mm512_store_si512(tl + kp * 32, lo[kp]);
      }
    }
  }
}

size_t prep_bytes(int64_t m, int64_t cols) {
  return 2 * sizeof(uint16_t) * static_cast<size_t>(round_up(m, 32) * cols);
}

// Planes [m_pad][cols] bf16: hi at 0, lo after; the chunk ending at m zeroes the pad rows.
void prepare_x(QuantType, const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
               void* out) {
  const int64_t m_pad = round_up(m, 32);
  auto* hi_plane = static_cast<uint16_t*>(out);
  uint16_t* lo_plane = hi_plane + m_pad * cols;
  const int64_t iend = i1 == m ? m_pad : i1;
  for (int64_t i = i0; i < iend; ++i) {
    for (int64_t k = 0; k < cols; k += 32) {  // cols is a multiple of 32
      __m512i hi = _mm512_setzero_si512(), lo = _mm512_setzero_si512();
      if (i < m) split32(_mm512_loadu_ps(x + i * cols + k), _mm512_loadu_ps(x + i * cols + k + 16),
                         &hi, &lo);
      _mm512_storeu_si512(hi_plane + i * cols + k, hi);
      _mm512_storeu_si512(lo_plane + i * cols + k, lo);
    }
  }
}

// C tiles 0..3 = [activation half a][output half b] at 2a + b; B tiles 4, 5; A tiles 6, 7.
inline void tile_block(const uint16_t* xh, const uint16_t* xl, int64_t x_stride_bytes,
                       const uint16_t* b0, const uint16_t* b1, int64_t plane_u16,
                       int64_t ksteps) {
  const int64_t x16 = 16 * x_stride_bytes / 2;  // 16 activation rows, in bf16 units
  for (int64_t ks = 0; ks < ksteps; ++ks) {
    const int64_t bo = ks * kTileU16, xo = ks * 32;
    _tile_loadd(4, b0 + bo, 64);
    _tile_loadd(5, b1 + bo, 64);
    _tile_loadd(6, xh + xo, x_stride_bytes);
    _tile_loadd(7, xh + x16 + xo, x_stride_bytes);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
    _tile_loadd(4, b0 + plane_u16 + bo, 64);  // w_lo x x_hi
    _tile_loadd(5, b1 + plane_u16 + bo, 64);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
    _tile_loadd(4, b0 + bo, 64);  // w_hi x x_lo
    _tile_loadd(5, b1 + bo, 64);
    _tile_loadd(6, xl + xo, x_stride_bytes);
    _tile_loadd(7, xl + x16 + xo, x_stride_bytes);
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
  }
}

void gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx512::QuantDecoder& dec = avx512::quant_decoder(p.type);
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);

  const int64_t m = p.m, m_pad = round_up(m, 32), K = p.cols;
  const auto* x_hi = static_cast<const uint16_t*>(p.xprep);
  const uint16_t* x_lo = x_hi + m_pad * K;
  const int64_t x_stride = K * 2;
  auto* stage_buf = static_cast<uint16_t*>(scratch);
  auto* decode_buf = reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes);
  alignas(64) float ctmp[32 * 32];
  std::memset(ctmp, 0, sizeof(ctmp));

  for (int64_t nb = r0; nb < r1; nb += kNb) {
    const int64_t nrows = r1 - nb < kNb ? r1 - nb : kNb;
    const int64_t nblk32 = (nrows + 31) / 32, nblk16 = 2 * nblk32;
    for (int64_t kc = 0; kc < K; kc += kKc) {
      const int64_t kcl = K - kc < kKc ? K - kc : kKc, ksteps = kcl / 32;
      stage(p, dec, nb, nrows, kc, kcl, nblk16, stage_buf, decode_buf);
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
          const uint16_t* b0 = stage_buf + (2 * rb) * ksteps * kTileU16;
          const uint16_t* b1 = b0 + ksteps * kTileU16;
          tile_block(x_hi + jb * K + kc, x_lo + jb * K + kc, x_stride, b0, b1, plane_u16,
                     ksteps);
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

size_t scratch_bytes(QuantType, int64_t, int64_t) { return kScratchBytes; }

const QuantKernelSet kAmxSet = {
    "avx512-vnni",
    "amx",
    avx512::kQuantGemvMaxM,
    {avx512::quant_gemv, 16, avx512::quant_gemv_scratch_bytes, avx512::quant_gemv_prep_bytes,
     avx512::quant_gemv_prepare_x},
    {gemm, 32, scratch_bytes, prep_bytes, prepare_x},
};

}  // namespace
}  // namespace insitu::kernels::amxq

namespace insitu::kernels {
const QuantKernelSet& quant_kernels_amx() { return amxq::kAmxSet; }
}  // namespace insitu::kernels
