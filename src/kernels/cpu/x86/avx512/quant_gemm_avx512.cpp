// AVX-512 GEMM for quantized weights: prefill on hosts without AMX (or with the ISA capped at
// avx512). One tiled kernel in two element types:
//  * bf16 (QuantProblem::round_x, OperandRounding::kBf16, the AMX fast path's rounding):
//    vdpbf16ps does 32 multiply-adds per instruction where an f32 FMA does 16, at the same issue
//    rate (Zen 5: both ~2 per cycle), so twice the f32 peak;
//  * f32 (exact: f32-grade error, nothing rounded): FMA.
//
// Weights: kRows rows x kKc columns at a time are decoded to f32 (quant_decode_avx512.h) and
// staged as 1 KiB tiles of 16 rows (bf16: 16 K pairs x 16 rows x 2, the AMX B-tile layout of
// bf16_tiles::stage_b_tiles; f32: 16 columns x 16 rows), once per call and weight, amortised
// over the m activation rows. Row-group matrices (quant/layout/row_groups.h) are read directly:
// each 16-row tile is one group, put back in rows in a buffer as it is staged.
// Activations: converted once per call into 1 KiB tiles of 16 rows (bf16: 16 x 32, f32:
// 16 x 16), so the 8 rows one microkernel reads are 64 bytes apart. Read straight from [m][K],
// rows K * 4 bytes apart (a multiple of 4 KiB for every model width) would fall into one L1 set.
// Microkernel: 8 activation rows x 48 weight rows in 24 zmm accumulators; each K unit (a bf16
// pair or one f32 column) is one 4-byte broadcast of an activation against three 16-row weight
// vectors, so every accumulator holds 16 consecutive outputs: no horizontal reductions. Each
// staged weight block meets every 8-row activation block; partial sums go through y between
// K chunks. The previous f32 kernel (4x4 dot products reduced at the end, whole-K rows) ran
// at about half the FMA peak.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/x86/avx512/bf16_tiles_avx512.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kMi = 8;                 // activation rows per microkernel (divides 16)
constexpr int kVecs = 3;               // 16-row weight vectors per microkernel
constexpr int64_t kRows = 16 * kVecs;  // weight rows staged together (= kQuantGemmRowGrain)
// Columns staged together (a multiple of every block). The whole K of a 2048-wide model at once:
// the microkernel keeps its sums in registers over 2048 columns and y is read back only for
// wider K, while the staged block (bf16 192 KiB, f32 384 KiB) streams from L2. Against 256
// columns (an L1-sized block, y read and written every 256): GEMM q4_0 +6-15%, q8_0 exact +10%,
// pp512 q4_0 +12% (Zen 5, alternated runs).
constexpr int64_t kKc = 2048;
constexpr int64_t kTileBytes = 1024;   // one staged tile, either element type
constexpr int64_t kUnitsPerTile = 16;  // K units per tile: bf16 pairs or f32 columns
static_assert(kRows == kQuantGemmRowGrain);

// Columns one tile covers.
template <bool kBf16>
constexpr int64_t tile_cols() {
  return kBf16 ? 32 : 16;
}

// Scratch: the staged tiles (f32: 384 KiB, bf16: half), the f32 decode buffer of one 16-row
// tile, and one row group's block columns back in rows.
constexpr size_t kStageBytes = kRows * kKc * sizeof(float);
constexpr size_t kDecodeBytes = 16 * kKc * sizeof(float);
constexpr size_t kGroupRowsBytes = 16 * kKc * 2;  // <= 2 bytes per weight for grouped types

// Stages rows [r, r + nrows) x columns [kc, kc + kcl) of f32 weights: tile (v, s) (rows
// 16 v.., columns 16 s..) at out + (v * kcl / 16 + s) * 256, column c's 16 rows contiguous;
// rows past nrows are zero. (The bf16 twin is bf16_tiles::stage_b_tiles.)
void stage_f32_tiles(const QuantProblem& p, const QuantDecoder& dec, int64_t r, int64_t nrows,
                     int64_t kc, int64_t kcl, int nv, float* out, float* buf, uint8_t* group_rows) {
  const int64_t steps = kcl / 16;
  const int64_t b0 = kc / dec.block, nbl = kcl / dec.block;
  for (int v = 0; v < nv; ++v) {
    const int64_t nvalid = std::min<int64_t>(nrows - 16 * v, 16);
    bf16_tiles::decode_tile_rows(p, dec, r + 16 * v, nvalid, b0, nbl, buf, kKc, group_rows);
    for (int64_t s = 0; s < steps; ++s) {
      __m512i t[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        t[j] = j < nvalid ? _mm512_load_si512(buf + j * kKc + 16 * s) : _mm512_setzero_si512();
      transpose16x16_epi32(t);
      float* tile = out + (v * steps + s) * 256;
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) _mm512_store_si512(tile + 16 * c, t[c]);
    }
  }
}

// y[a][16 v + j] (a < MI, v < NV, j < 16; row stride ldy, the first ncol columns valid) += the
// staged weights times the activations: K step s's tile v at w + (v * steps + s) * kTileBytes,
// activation row a's units of step s at x + s * kTileBytes + 64 a (4 bytes each). `first`: the
// first K chunk (y is not read).
template <bool kBf16, int MI, int NV>
void micro(const uint8_t* x, const uint8_t* w, int64_t steps, float* y, int64_t ldy, int64_t ncol,
           bool first) {
  __m512 acc[MI][NV];
  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mask[v] = tail_mask16(std::clamp<int64_t>(ncol - 16 * v, 0, 16));
#pragma GCC unroll 8
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[a][v] =
          first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask[v], y + a * ldy + 16 * v);
  for (int64_t s = 0; s < steps; ++s) {
    const uint8_t* xs = x + s * kTileBytes;
    const uint8_t* ws = w + s * kTileBytes;
    for (int u = 0; u < kUnitsPerTile; ++u) {
      __m512 wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) wv[v] = _mm512_load_ps(ws + v * steps * kTileBytes + 64 * u);
#pragma GCC unroll 8
      for (int a = 0; a < MI; ++a) {
        int32_t unit;  // a bf16 pair or one f32
        std::memcpy(&unit, xs + 64 * a + 4 * u, sizeof(unit));
        const __m512i xb = _mm512_set1_epi32(unit);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          if constexpr (kBf16)
            acc[a][v] = _mm512_dpbf16_ps(acc[a][v], reinterpret_cast<__m512bh>(xb),
                                         reinterpret_cast<__m512bh>(wv[v]));
          else
            acc[a][v] = _mm512_fmadd_ps(_mm512_castsi512_ps(xb), wv[v], acc[a][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(y + a * ldy + 16 * v, mask[v], acc[a][v]);
}

using MicroFn = void (*)(const uint8_t*, const uint8_t*, int64_t, float*, int64_t, int64_t, bool);

template <bool kBf16, int NV>
MicroFn micro_for(int mi) {
  switch (mi) {
    case 1: return micro<kBf16, 1, NV>;
    case 2: return micro<kBf16, 2, NV>;
    case 3: return micro<kBf16, 3, NV>;
    case 4: return micro<kBf16, 4, NV>;
    case 5: return micro<kBf16, 5, NV>;
    case 6: return micro<kBf16, 6, NV>;
    case 7: return micro<kBf16, 7, NV>;
    default: return micro<kBf16, 8, NV>;
  }
}

template <bool kBf16>
MicroFn micro_for(int mi, int nv) {
  switch (nv) {
    case 1: return micro_for<kBf16, 1>(mi);
    case 2: return micro_for<kBf16, 2>(mi);
    default: return micro_for<kBf16, 3>(mi);
  }
}

// f32 activation tiles: [round_up(m, 16) / 16][cols / 16] tiles of 16 rows x 16 columns.
size_t f32_tiles_bytes(int64_t m, int64_t cols) {
  return bf16_tiles::round_up(m, 16) * cols * sizeof(float);
}

// Rows [i0, i1) of x [m][cols] as f32 tiles; the chunk ending at m zeroes the pad rows.
void prepare_f32_tiles(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
                       float* out) {
  const int64_t iend = i1 == m ? bf16_tiles::round_up(m, 16) : i1;
  for (int64_t i = i0; i < iend; ++i)
    for (int64_t k = 0; k < cols; k += 16) {
      const __m512 v = i < m ? _mm512_loadu_ps(x + i * cols + k) : _mm512_setzero_ps();
      _mm512_store_ps(out + ((i / 16) * (cols / 16) + k / 16) * 256 + (i % 16) * 16, v);
    }
}

// Stages weight rows [rb, rb + nrows) x columns [kc, kc + kcl) and passes every activation row
// over them, kMi at a time, adding to y (the first K chunk stores).
template <bool kBf16>
void stage_and_sweep(const QuantProblem& p, const QuantDecoder& dec, int64_t rb, int64_t nrows,
                     int64_t kc, int64_t kcl, uint8_t* scratch) {
  auto* stage = scratch;
  auto* decode = reinterpret_cast<float*>(scratch + kStageBytes);
  uint8_t* group_rows = scratch + kStageBytes + kDecodeBytes;
  const int nv = static_cast<int>((nrows + 15) / 16);
  if constexpr (kBf16)
    bf16_tiles::stage_b_tiles<true>(p, dec, rb, nrows, kc, kcl, nv,
                                    reinterpret_cast<uint16_t*>(stage), decode, kKc, group_rows);
  else
    stage_f32_tiles(p, dec, rb, nrows, kc, kcl, nv, reinterpret_cast<float*>(stage), decode,
                    group_rows);
  const int64_t steps = kcl / tile_cols<kBf16>(), tiles_per_row_block = p.cols / tile_cols<kBf16>();
  const auto* x_tiles = static_cast<const uint8_t*>(p.xprep);
  for (int64_t a0 = 0; a0 < p.m; a0 += kMi) {
    const int mi = static_cast<int>(std::min<int64_t>(p.m - a0, kMi));
    const uint8_t* x = x_tiles +
                       ((a0 / 16) * tiles_per_row_block + kc / tile_cols<kBf16>()) * kTileBytes +
                       (a0 % 16) * 64;
    micro_for<kBf16>(mi, nv)(x, stage, steps, p.y + a0 * p.rows + rb, p.rows, nrows, kc == 0);
  }
}

// Row blocks outside, K chunks of kKc inside: for K <= kKc one chunk, the microkernel's sums stay
// in registers over the whole K.
template <bool kBf16>
void gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  for (int64_t rb = r0; rb < r1; rb += kRows)
    for (int64_t kc = 0; kc < p.cols; kc += kKc)
      stage_and_sweep<kBf16>(p, dec, rb, std::min(r1 - rb, kRows), kc, std::min(p.cols - kc, kKc),
                             static_cast<uint8_t*>(scratch));
}

}  // namespace

size_t quant_gemm_scratch_bytes(QuantType, int64_t, int64_t) {
  return kStageBytes + kDecodeBytes + kGroupRowsBytes;
}

size_t quant_gemm_prep_bytes(int64_t m, int64_t cols) {
  return std::max(bf16_tiles::a_plane_u16(m, cols) * sizeof(uint16_t), f32_tiles_bytes(m, cols));
}

// cols is a multiple of 32 for every quantized type.
void quant_gemm_prepare_x(QuantType, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out) {
  if (round_x)
    bf16_tiles::prepare_a_tiles(x, m, cols, cols, i0, i1, out, /*with_lo=*/false);
  else
    prepare_f32_tiles(x, m, cols, i0, i1, static_cast<float*>(out));
}

OperandRounding quant_gemm_fast_rounding(QuantType) {
  return OperandRounding::kBf16;
}

// Exact mode for K > kKc, with the K chunks outside the row blocks: f32 activation tiles take 4
// bytes per element, and a whole-K pass per 48-row block streamed x (16 MB at K = 8192, m = 512)
// from beyond L2 for every block: the 2048x8192 GEMM ran at 112-142 GOP/s against 184-186 for
// 2048x2048 (1 thread, Zen 5). With kKcExact columns per chunk, the chunk's x (m x kKcExact x 4
// bytes, 1 MiB at m = 512) stays near while every row block of the thread's range passes over
// it, y read and written once per chunk: 2048x8192 at 167-175. For K <= kKc (one chunk) gemm
// stays ahead (185 against 172-177 this way; 256 columns: 148-159, 1024: 157-166).
constexpr int64_t kKcExact = 512;
void gemm_exact(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  for (int64_t kc = 0; kc < p.cols; kc += kKcExact)
    for (int64_t rb = r0; rb < r1; rb += kRows)
      stage_and_sweep<false>(p, dec, rb, std::min(r1 - rb, kRows), kc,
                             std::min(p.cols - kc, kKcExact), static_cast<uint8_t*>(scratch));
}

void quant_gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  if (p.round_x)
    gemm<true>(p, r0, r1, scratch);
  else if (p.cols <= kKc)
    gemm<false>(p, r0, r1, scratch);
  else
    gemm_exact(p, r0, r1, scratch);
}

}  // namespace insitu::kernels::avx512
