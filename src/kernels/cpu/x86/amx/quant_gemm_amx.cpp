// AMX-BF16 GEMM for quantized weights (prefill) and the AMX quantized kernel table (decode
// reuses the AVX-512 VNNI GEMV: it is memory bound).
//
// Weights: each thread stages kNb rows (the exact-code path: kNbCodes) x kKc columns at a time.
// The rows' blocks are decoded to f32 (quant_decode_avx512.h, exact dequantized values up to one
// rounding), split into w = w_hi + w_lo (both bf16, round to nearest even) and stored as VNNI B
// tiles by 16x16 transposes. The decode costs a few instructions per weight and is amortised over
// all m activation rows, which is why one f32 decode serves every quantized type.
// Activations: split once per call into x = x_hi + x_lo (bf16 planes in A-tile order, zero
// padded to 32 rows).
// y = w_hi x_hi + w_hi x_lo + w_lo x_hi in f32 tiles: the dropped terms (x residual, w
// residual, w_lo x_lo) are each below 2^-16 |w x| (~1e-6 relative in practice, measured in
// tests/kernels/quant_matmul_test.cpp). AMX reads bf16 denormals as zero.
// With QuantProblem::round_x (OperandRounding::kBf16) only the hi planes exist and each K step
// is one tile product, y = w_hi x_hi: a third of the tile work and half the staging.
// q8_0, q8_1, q8k, f8q8 and fp8 in exact mode take their own path (gemm_codes_exact): their codes
// (int8, e4m3) are exact in bf16, so two tile products per K step (codes x_hi, codes x_lo) and
// the block scale applied per K step: q8_0 measured 1.26-1.30x the GEMM and 1.1-1.3x pp512 of
// the three-product path.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/x86/amx/amx_common.h"
#include "kernels/cpu/x86/avx512/e4m3_avx512.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/fp8/fp8.h"
#include "quant/ggml/blocks.h"

namespace insitu::kernels::amxq {
namespace {

constexpr int64_t kNb = 128;  // weight rows staged together (multiple of 32)
// The exact-code path (gemm_codes_exact) stages one plane, so it takes twice the rows in the
// same bytes: the activation planes are re-read from L3 once per staged row block, and halving
// those reads gave pp512 q8_0 233-235 against 210-222 tok/s (3 of 4 alternated runs; 512 rows
// was no better). The generic path stayed at 128: 256 rows cost q4k's pp512 15-30%.
constexpr int64_t kNbCodes = 256;
constexpr int64_t kKc = 512;  // columns staged together (multiple of every block size)
using amx_common::a_tile;
using amx_common::kCTileF32;
using amx_common::kTileU16;
using amx_common::round_up;
using amx_common::split_bf16;

// Scratch: [2 planes][kNb / 16][kKc / 32] tiles (the exact-code path: [kNbCodes / 16][kKc / 32]
// code tiles), a [16][kKc] f32 decode buffer (the exact-code path: its scales and two C tiles),
// then the row block's C tiles (amx_common::CBlock).
constexpr size_t kStageBytes = std::max(2 * kNb, kNbCodes) * kKc * sizeof(uint16_t);
constexpr size_t kDecodeBytes =
    std::max<size_t>(16 * kKc, (kNbCodes / 16) * (kKc / 32) * 16 + 2 * kCTileF32) * sizeof(float);
// A row-group matrix's 16-row tile, kKc columns of it back in the row format (at most 2 bytes
// per weight for every type that has the layout).
constexpr size_t kGroupRowsBytes = 16 * kKc * 2;

// One call's buffers: the prepared activation planes (prepare_x; the lo plane is only read in
// exact mode) and the thread's scratch, carved as described above.
struct GemmBuffers {
  const uint16_t *x_hi, *x_lo;
  uint16_t* stage;
  float* decode;        // the generic path's f32 rows; the exact-code path's scales and C tiles
  uint8_t* group_rows;  // a row-group tile's rows (QuantProblem::row_groups)
  float* cbuf;          // amx_common::CBlock tiles / accumulator tiles
  GemmBuffers(const QuantProblem& p, void* scratch)
      : x_hi(static_cast<const uint16_t*>(p.xprep)),
        x_lo(x_hi + round_up(p.m, 32) * p.cols),
        stage(static_cast<uint16_t*>(scratch)),
        decode(reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes)),
        group_rows(static_cast<uint8_t*>(scratch) + kStageBytes + kDecodeBytes),
        cbuf(reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes + kDecodeBytes +
                                      kGroupRowsBytes)) {}
};

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

// ---- Exact mode for codes that are exact in bf16: codes x (x_hi + x_lo) ----
//
// A q8 weight is d * code with an int8 code, exact in bf16 (as are e4m3 codes): per K step of 32
// weights, C = code . x_hi + code . x_lo is two tile products, and y += d * C. The generic exact
// path above needs three (w = d * code is not a bf16). The price is applying d per K step and
// weight row: each step's 16x16 C tile is stored and added to an f32 accumulator tile with 16
// FMAs, while the tile unit computes the next weight tile's step (software pipelined over two C
// tiles).

// One K step (32 weights) of a row: the codes as 32 bf16 and the step's scale. q8_0 (f16 d |
// int8 q[32]), q8_1 (f16 d | f16 s | int8 q[32]), q8_K (f32 d | int8 q[256] | bsums: eight K
// steps per block), f8q8 (e4m3 d | int8 q[32], scale e4m3(d) / 448) and fp8 (f32 d | e4m3
// q[128]: four K steps per block).
struct CodeStep {
  __m512i bf16;
  float d;
};
inline __m512i int8_codes_bf16(const uint8_t* q) {
  const auto* v = reinterpret_cast<const __m128i*>(q);
  const __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(v)));
  const __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(v + 1)));
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(c1, c0));
}
// The e4m3 values have 4 significant bits: exact in bf16.
inline __m512i e4m3_codes_bf16(const uint8_t* q) {
  __m512 lo, hi;
  avx512::e4m3x32_to_f32(q, &lo, &hi);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}
template <QuantType T>
inline CodeStep code_step(const uint8_t* row, int64_t ks) {
  if constexpr (T == QuantType::kQ8_0 || T == QuantType::kQ8_1) {
    using Block = std::conditional_t<T == QuantType::kQ8_0, ggml::BlockQ8_0, ggml::BlockQ8_1>;
    const uint8_t* b = row + ks * static_cast<int64_t>(sizeof(Block));
    uint16_t h;
    std::memcpy(&h, b, 2);
    return {int8_codes_bf16(b + offsetof(Block, qs)), _cvtsh_ss(h)};
  } else if constexpr (T == QuantType::kQ8K) {
    const uint8_t* b = row + ks / 8 * static_cast<int64_t>(sizeof(ggml::BlockQ8K));
    float d;
    std::memcpy(&d, b, 4);
    return {int8_codes_bf16(b + offsetof(ggml::BlockQ8K, qs) + 32 * (ks % 8)), d};
  } else if constexpr (T == QuantType::kF8Q8) {
    const uint8_t* b = row + ks * static_cast<int64_t>(sizeof(fp8::BlockF8Q8));
    return {int8_codes_bf16(b + 1), fp8::e4m3_to_f32(b[0]) / fp8::kE4M3Max};
  } else {
    static_assert(T == QuantType::kFp8);
    const uint8_t* b = row + ks / 4 * static_cast<int64_t>(sizeof(fp8::BlockFp8));
    float d;
    std::memcpy(&d, b, 4);
    return {e4m3_codes_bf16(b + 4 + 32 * (ks % 4)), d};
  }
}

// Stages rows [r, r + nrows) x K steps [ks0, ks0 + nks): tile (nbk, ks) at (nbk * nks + ks) *
// kTileU16 holds the codes of rows r + 16 nbk .. + 15 as bf16 B tiles; d_out[(nbk * nks + ks) *
// 16 + j] their scales. Rows past nrows are zero.
template <QuantType T>
void stage_codes(const QuantProblem& p, int64_t r, int64_t nrows, int64_t ks0, int64_t nks,
                 int64_t nblk16, uint16_t* out, float* d_out) {
  for (int64_t nbk = 0; nbk < nblk16; ++nbk) {
    const int64_t nvalid = nrows - nbk * 16 < 16 ? nrows - nbk * 16 : 16;
    for (int64_t ks = 0; ks < nks; ++ks) {
      __m512i v[16];
      alignas(64) float d[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j < nvalid) {
          const CodeStep c =
              code_step<T>(p.w + static_cast<size_t>(r + nbk * 16 + j) * p.row_bytes, ks0 + ks);
          v[j] = c.bf16;
          d[j] = c.d;
        } else {
          v[j] = _mm512_setzero_si512();
          d[j] = 0.f;
        }
      }
      transpose16x16_epi32(v);
      uint16_t* t = out + (nbk * nks + ks) * kTileU16;
#pragma GCC unroll 16
      for (int kp = 0; kp < 16; ++kp) _mm512_store_si512(t + kp * 32, v[kp]);
      _mm512_store_ps(d_out + (nbk * nks + ks) * 16, _mm512_load_ps(d));
    }
  }
}

// The tile intrinsics take their tile numbers as literals (they are pasted into the asm), so the
// two C tiles of the pipeline get one function each. C tile 0 (1) = codes in B tile 4 (5) times
// x_hi and x_lo in A tiles 6 and 7; acc (16 x 16 f32) += C tile * d (one scale per column, i.e.
// per weight row).
inline void q8_block_products0(const uint16_t* b) {
  _tile_zero(0);
  _tile_loadd(4, b, 64);
  _tile_dpbf16ps(0, 6, 4);
  _tile_dpbf16ps(0, 7, 4);
}
inline void q8_block_products1(const uint16_t* b) {
  _tile_zero(1);
  _tile_loadd(5, b, 64);
  _tile_dpbf16ps(1, 6, 5);
  _tile_dpbf16ps(1, 7, 5);
}
inline void q8_add_scaled(const float* c, const float* d, float* acc) {
  const __m512 dv = _mm512_load_ps(d);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    _mm512_store_ps(acc + 16 * i,
                    _mm512_fmadd_ps(_mm512_load_ps(c + 16 * i), dv, _mm512_load_ps(acc + 16 * i)));
}
inline void q8_block_scale0(float* tmp, const float* d, float* acc) {
  _tile_stored(0, tmp, 64);
  q8_add_scaled(tmp, d, acc);
}
inline void q8_block_scale1(float* tmp, const float* d, float* acc) {
  _tile_stored(1, tmp, 64);
  q8_add_scaled(tmp, d, acc);
}

template <QuantType T>
void gemm_codes_exact(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  amx_common::configure_tiles_16x64();
  const int64_t m = p.m, m_pad = round_up(m, 32), K = p.cols;
  const GemmBuffers buf(p, scratch);
  const uint16_t *x_hi = buf.x_hi, *x_lo = buf.x_lo;
  uint16_t* stage_buf = buf.stage;
  float* dbuf = buf.decode;                               // scales: [kNbCodes / 16][kKc / 32][16]
  float* tmp = dbuf + (kNbCodes / 16) * (kKc / 32) * 16;  // then two C tiles
  static_assert((kNbCodes / 16) * (kKc / 32) * 16 + 2 * kCTileF32 <= kDecodeBytes / sizeof(float));
  float* acc_all = buf.cbuf;

  for (int64_t nb = r0; nb < r1; nb += kNbCodes) {
    const int64_t nrows = r1 - nb < kNbCodes ? r1 - nb : kNbCodes;
    const int64_t nblk16 = (nrows + 15) / 16;
    for (int64_t kc = 0; kc < K; kc += kKc) {
      const int64_t kcl = K - kc < kKc ? K - kc : kKc, nkb = kcl / 32;
      stage_codes<T>(p, nb, nrows, kc / 32, nkb, nblk16, stage_buf, dbuf);
      for (int64_t a16 = 0; a16 < m_pad / 16; ++a16) {
        float* acc = acc_all + a16 * nblk16 * kCTileF32;
        if (kc == 0) std::memset(acc, 0, nblk16 * kCTileF32 * sizeof(float));
        for (int64_t ks = 0; ks < nkb; ++ks) {
          _tile_loadd(6, a_tile(x_hi, K, a16, kc / 32 + ks), 64);
          _tile_loadd(7, a_tile(x_lo, K, a16, kc / 32 + ks), 64);
          const auto b = [&](int64_t rb) { return stage_buf + (rb * nkb + ks) * kTileU16; };
          const auto d = [&](int64_t rb) { return dbuf + (rb * nkb + ks) * 16; };
          // The next A tiles (this row block's next K step, else the next row block's first,
          // else the first row block's at the next K chunk, or at K step 0 for the next weight
          // block), 16 lines per plane, prefetched a few lines per weight tile: the planes are
          // re-read for every weight block and come from L3, and perf put 30% of this
          // kernel's samples on the two A tile loads.
          const bool step_next = ks + 1 < nkb, block_next = a16 + 1 < m_pad / 16;
          const int64_t a16_next = step_next ? a16 : (block_next ? a16 + 1 : 0);
          const int64_t ks_next = step_next      ? kc / 32 + ks + 1
                                  : block_next   ? kc / 32
                                  : kc + kKc < K ? (kc + kKc) / 32
                                                 : 0;
          const auto* next_hi = reinterpret_cast<const char*>(a_tile(x_hi, K, a16_next, ks_next));
          const auto* next_lo = reinterpret_cast<const char*>(a_tile(x_lo, K, a16_next, ks_next));
          // Weight tile rb's products go to C tile rb % 2 while tile rb - 1's are drained.
          for (int64_t rb = 0; rb < nblk16; ++rb) {
            for (int64_t l = rb * 16 / nblk16; l < (rb + 1) * 16 / nblk16; ++l) {
              _mm_prefetch(next_hi + 64 * l, _MM_HINT_T0);
              _mm_prefetch(next_lo + 64 * l, _MM_HINT_T0);
            }
            if (rb % 2 == 0) {
              q8_block_products0(b(rb));
              if (rb > 0) q8_block_scale1(tmp + kCTileF32, d(rb - 1), acc + (rb - 1) * kCTileF32);
            } else {
              q8_block_products1(b(rb));
              q8_block_scale0(tmp, d(rb - 1), acc + (rb - 1) * kCTileF32);
            }
          }
          const int64_t last = nblk16 - 1;
          if (last % 2 == 0)
            q8_block_scale0(tmp, d(last), acc + last * kCTileF32);
          else
            q8_block_scale1(tmp + kCTileF32, d(last), acc + last * kCTileF32);
        }
      }
    }
    // y rows [16 a16, ...) x columns [nb + 16 rb, ...) from the accumulator tiles.
    for (int64_t a16 = 0; a16 < m_pad / 16; ++a16)
      for (int64_t i = 0; i < 16 && 16 * a16 + i < m; ++i)
        for (int64_t rb = 0; rb < nblk16; ++rb) {
          const int64_t n = nrows - 16 * rb < 16 ? nrows - 16 * rb : 16;
          _mm512_mask_storeu_ps(p.y + (16 * a16 + i) * p.rows + nb + 16 * rb, tail_mask16(n),
                                _mm512_load_ps(acc_all + (a16 * nblk16 + rb) * kCTileF32 + 16 * i));
        }
  }
  _tile_release();
}

// The exact-mode GEMM of a type whose codes are exact in bf16, or nullptr.
using GemmFn = void (*)(const QuantProblem&, int64_t, int64_t, void*);
GemmFn codes_exact_gemm(QuantType t) {
  switch (t) {
    case QuantType::kQ8_0: return gemm_codes_exact<QuantType::kQ8_0>;
    case QuantType::kQ8_1: return gemm_codes_exact<QuantType::kQ8_1>;
    case QuantType::kQ8K: return gemm_codes_exact<QuantType::kQ8K>;
    case QuantType::kF8Q8: return gemm_codes_exact<QuantType::kF8Q8>;
    case QuantType::kFp8: return gemm_codes_exact<QuantType::kFp8>;
    default: return nullptr;
  }
}

void gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  // The exact-code types (q8_0, q8_1, q8k, f8q8, fp8) never take the row-group layout; should
  // one, the generic path below reads it.
  if (!p.round_x && !p.row_groups) {
    if (const auto exact = codes_exact_gemm(p.type)) return exact(p, r0, r1, scratch);
  }
  const avx512::QuantDecoder& dec = avx512::quant_decoder(p.type);
  amx_common::configure_tiles_16x64();

  const int64_t m = p.m, m_pad = round_up(m, 32), K = p.cols;
  const GemmBuffers buf(p, scratch);
  const uint16_t *x_hi = buf.x_hi, *x_lo = buf.x_lo;
  uint16_t* stage_buf = buf.stage;
  float* decode_buf = buf.decode;
  float* cbuf = buf.cbuf;

  for (int64_t nb = r0; nb < r1; nb += kNb) {
    const int64_t nrows = r1 - nb < kNb ? r1 - nb : kNb;
    const int64_t nblk32 = (nrows + 31) / 32, nblk16 = 2 * nblk32;
    const amx_common::CBlock cb{cbuf, nblk16};
    for (int64_t kc = 0; kc < K; kc += kKc) {
      const int64_t kcl = K - kc < kKc ? K - kc : kKc, ksteps = kcl / 32;
      if (p.round_x)
        bf16_tiles::stage_b_tiles<true>(p, dec, nb, nrows, kc, kcl, nblk16, stage_buf, decode_buf,
                                        kKc, buf.group_rows);
      else
        bf16_tiles::stage_b_tiles<false>(p, dec, nb, nrows, kc, kcl, nblk16, stage_buf, decode_buf,
                                         kKc, buf.group_rows);
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
  return kStageBytes + kDecodeBytes + kGroupRowsBytes +
         amx_common::c_buffer_bytes(m, std::max(kNb, kNbCodes));
}

const QuantKernelSet kAmxSet = {
    "avx512-vnni",
    "amx",
    avx512::kQuantGemvMaxM,
    {avx512::quant_gemv, 16, avx512::quant_gemv_scratch_bytes, avx512::quant_gemv_prep_bytes,
     avx512::quant_gemv_prepare_x, avx512::quant_gemv_fast_rounding},
    {gemm, 32, scratch_bytes, prep_bytes, prepare_x, fast_rounding, /*row_groups=*/true},
    avx512::quant_gemv_groups_supported,
    avx512::kQuantGemvGroupsPath,
    avx512::unpack_row_groups,
};

}  // namespace
}  // namespace insitu::kernels::amxq

namespace insitu::kernels {
const QuantKernelSet& quant_kernels_amx() {
  return amxq::kAmxSet;
}
}  // namespace insitu::kernels
