// AVX2 quantized matmul for hosts without AVX-512: dequantize, then multiply in f32 with FMA.
// Weights are decoded by the AVX2 row dequantizers (quant_decode_avx2.h: bit-identical to the
// registry's reference dequantizers, vectorised for every quantized type), so the products are
// against the exact weights.
//   decode (m <= 4): 4 rows at a time are decoded in column segments of ~1024 (kSegCols) that
//     stay in L1 and are dotted with every activation row at once; 8-lane accumulators per
//     (activation, row) carry over the segments. The 4 rows come from 4 stripes of the thread's
//     chunk (row_stripes.h), each prefetched one segment ahead: tg64 q8_0 with AVX2 forced on
//     Zen 5 went 6.6-7.0 -> 12.1-13.1 tok/s (alternated).
//   prefill (m > 4): a tile of kTileRows rows is decoded once (amortised over m) into a
//     column-major panel, then swept in 256-column segments by an outer-product microkernel
//     (6 activation rows x 16 weight rows per register block); segment and activation slice
//     stay in L1.
// f32 accumulation (decode: 8 lanes per output; prefill: 256-product chains added to y):
// f32-grade error.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"
#include "kernels/cpu/x86/avx2/quant_gemv_int_avx2.h"
#include "kernels/cpu/x86/avx2/simd256.h"

namespace insitu::kernels {
namespace {

constexpr int64_t kTileRows = 16;  // prefill tile
constexpr int kGemvRows = 4;       // decode rows per pass (4 stripes: row_stripes.h)
constexpr int64_t kGemvMaxM = 4;
constexpr int64_t kSegCols = 1024;        // decode column segment: 4 rows x 4 KiB f32
constexpr int64_t kPrefillSegCols = 256;  // prefill column segment: 16 rows x 1 KiB f32
constexpr int64_t kXBlock = 6;            // prefill activation rows per microkernel call

// The register blocks below are small fixed-size loops over __m256 arrays: without full
// unrolling GCC -O2 keeps the arrays in memory (a load/FMA/store per lane group).

// Block-aligned decode segment: whole blocks, about kSegCols columns.
int64_t seg_blocks(QuantType t) {
  return std::max<int64_t>(1, kSegCols / quant_info(t).block_size);
}

// ---- decode -----------------------------------------------------------------------------------

// acc[j] += x[0, n) . w[j * ws + (0, n)] lane-wise for R rows; n is a multiple of 8 (every
// block size is a multiple of 32).
template <int R>
inline void dot_seg(const float* x, const float* w, int64_t ws, int64_t n, __m256* acc) {
  __m256 a[R];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) a[j] = acc[j];
  for (int64_t c = 0; c < n; c += 8) {
    const __m256 xv = _mm256_loadu_ps(x + c);
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) a[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + j * ws + c), a[j]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) acc[j] = a[j];
}

void dot_seg_n(int nr, const float* x, const float* w, int64_t ws, int64_t n, __m256* acc) {
  switch (nr) {
    case 4: return dot_seg<4>(x, w, ws, n, acc);
    case 3: return dot_seg<3>(x, w, ws, n, acc);
    case 2: return dot_seg<2>(x, w, ws, n, acc);
    default: return dot_seg<1>(x, w, ws, n, acc);
  }
}

void gemv_rows(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  if (p.round_x && avx2::quant_gemv_int_supported(p.type)) {
    avx2::quant_gemv_int(p, r0, r1);
    return;
  }
  const avx2::DequantBlocksFn dequant = avx2::avx2_dequantizer(p.type);
  const int64_t block = quant_info(p.type).block_size;
  const int64_t K = p.cols, nblocks = K / block, sb_max = seg_blocks(p.type);
  const int64_t ws = sb_max * block;  // row stride of the segment buffer
  const size_t block_bytes = quant_info(p.type).bytes_per_block;
  auto* seg = static_cast<float*>(scratch);
  __m256 acc[kGemvMaxM][kGemvRows];
  // Rows r + j * rs (j < nr): the stripes of for_each_row_stripe_block, separate DRAM streams,
  // each prefetched one segment ahead (past a row's end: the next row of its stripe).
  const auto rows = [&](int64_t r, int64_t rs, int nr) {
    for (int64_t i = 0; i < p.m; ++i)
      for (int j = 0; j < nr; ++j) acc[i][j] = _mm256_setzero_ps();
    for (int64_t b0 = 0; b0 < nblocks; b0 += sb_max) {
      const int64_t nb = std::min(sb_max, nblocks - b0);
      for (int j = 0; j < nr; ++j) {
        const uint8_t* row = p.w + static_cast<size_t>(r + j * rs) * p.row_bytes;
        const uint8_t* ahead = row + (b0 + sb_max) * block_bytes;
        for (size_t l = 0; l < nb * block_bytes; l += 64)
          _mm_prefetch(reinterpret_cast<const char*>(ahead + l), _MM_HINT_T0);
        dequant(row, b0, nb, seg + j * ws);
      }
      for (int64_t i = 0; i < p.m; ++i)
        dot_seg_n(nr, p.x + i * K + b0 * block, seg, ws, nb * block, acc[i]);
    }
    for (int64_t i = 0; i < p.m; ++i)
      for (int j = 0; j < nr; ++j) p.y[i * p.rows + r + j * rs] = hsum8(acc[i][j]);
  };
  for_each_row_stripe_block<kGemvRows>(
      r0, r1, [&](int64_t r, int64_t rs, int64_t, int) { rows(r, rs, kGemvRows); },
      [&](int64_t r, int64_t, int64_t, int) { rows(r, 1, 1); });
}

// Rounded mode (integer GEMV, quant_gemv_int_avx2.h) for the types that have it; the
// dequantizing path reads x directly.
size_t gemv_prep_bytes(int64_t m, int64_t cols) {
  return avx2::quant_gemv_int_prep_bytes(m, cols);
}
void gemv_prepare_x(QuantType type, const float* x, int64_t, int64_t cols, int64_t i0, int64_t i1,
                    bool round_x, void* out) {
  if (round_x && avx2::quant_gemv_int_supported(type))
    avx2::quant_gemv_int_prepare(type, x, cols, i0, i1, out);
}
OperandRounding gemv_fast_rounding(QuantType type) {
  return avx2::quant_gemv_int_supported(type) ? OperandRounding::kActivationLane8
                                              : OperandRounding::kNone;
}

size_t gemv_scratch(QuantType t, int64_t, int64_t) {
  return static_cast<size_t>(kGemvRows * seg_blocks(t) * quant_info(t).block_size) * sizeof(float);
}

// ---- prefill ----------------------------------------------------------------------------------

// 8 x 8 floats transposed in registers: r[i] (row i, 8 columns) -> r[c] (column c, 8 rows).
inline void transpose8x8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0..3, then 4..7
    u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// Decodes rows rt..rt + nr - 1 (nr <= kTileRows) into the panel: column k's kTileRows weights
// contiguous at panel + k * kTileRows, rows past nr zero. `rows` is kTileRows * K floats of
// scratch for the row-major decode.
void decode_panel(const QuantProblem& p, avx2::DequantBlocksFn dequant, int64_t rt, int nr,
                  float* rows, float* panel) {
  const int64_t K = p.cols, nblocks = K / quant_info(p.type).block_size;
  for (int j = 0; j < kTileRows; ++j) {
    if (j < nr)
      dequant(p.w + static_cast<size_t>(rt + j) * p.row_bytes, 0, nblocks, rows + j * K);
    else
      std::fill_n(rows + j * K, K, 0.f);
  }
  for (int64_t k = 0; k < K; k += 8)
    for (int h = 0; h < 2; ++h) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows + (8 * h + i) * K + k);
      transpose8x8(r);
      for (int c = 0; c < 8; ++c) _mm256_storeu_ps(panel + (k + c) * kTileRows + 8 * h, r[c]);
    }
}

// y rows a < A (stride ys) at y, lanes < nr of the kTileRows: y (+)= acc[a].
template <int A>
inline void store_tile(const __m256 (&acc)[A][2], float* y, int64_t ys, int nr, bool add) {
  alignas(32) static constexpr int32_t kLanes[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                     8, 9, 10, 11, 12, 13, 14, 15};
#pragma GCC unroll 6
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      float* out = y + a * ys + 8 * v;
      __m256 val = acc[a][v];
      if (nr == kTileRows) {
        if (add) val = _mm256_add_ps(val, _mm256_loadu_ps(out));
        _mm256_storeu_ps(out, val);
      } else {  // lanes 8v + l < nr
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nr),
                               _mm256_load_si256(reinterpret_cast<const __m256i*>(kLanes + 8 * v)));
        if (add) val = _mm256_add_ps(val, _mm256_maskload_ps(out, mask));
        _mm256_maskstore_ps(out, mask, val);
      }
    }
}

// Outer-product microkernel: A <= 6 activation rows (x, stride xs) times the panel's kTileRows
// weight rows over n columns: per column, two 8-row weight vectors and A broadcasts feed 2A
// FMAs into 2A accumulators (12 of the 16 ymm at A = 6). The dot-product kernel before it
// (8-lane partial dots, 2 activations x 4 rows per block: 6 loads per 8 FMAs) ran at ~64% of
// the FMA peak (70 GFLOP/s per core on Zen 5).
template <int A>
void panel_block(const float* panel, const float* x, int64_t xs, int64_t n, float* y, int64_t ys,
                 int nr, bool add) {
  __m256 acc[A][2];
#pragma GCC unroll 6
  for (int a = 0; a < A; ++a) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int64_t k = 0; k < n; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kTileRows);
    const __m256 w1 = _mm256_loadu_ps(panel + k * kTileRows + 8);
#pragma GCC unroll 6
    for (int a = 0; a < A; ++a) {
      const __m256 xb = _mm256_broadcast_ss(x + a * xs + k);
      acc[a][0] = _mm256_fmadd_ps(xb, w0, acc[a][0]);
      acc[a][1] = _mm256_fmadd_ps(xb, w1, acc[a][1]);
    }
  }
  store_tile<A>(acc, y, ys, nr, add);
}

void panel_block_n(int na, const float* panel, const float* x, int64_t xs, int64_t n, float* y,
                   int64_t ys, int nr, bool add) {
  switch (na) {
    case 6: return panel_block<6>(panel, x, xs, n, y, ys, nr, add);
    case 5: return panel_block<5>(panel, x, xs, n, y, ys, nr, add);
    case 4: return panel_block<4>(panel, x, xs, n, y, ys, nr, add);
    case 3: return panel_block<3>(panel, x, xs, n, y, ys, nr, add);
    case 2: return panel_block<2>(panel, x, xs, n, y, ys, nr, add);
    default: return panel_block<1>(panel, x, xs, n, y, ys, nr, add);
  }
}

// Each tile of kTileRows rows is decoded once (amortised over m) into a panel, then swept in
// kPrefillSegCols-column segments: one segment of the panel (16 KiB) stays in L1 while every
// activation row passes over it, kXBlock at a time. A segment's sums start at zero in registers
// and are added to y, so no output sums more than kPrefillSegCols products in one chain.
void gemm_rows(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx2::DequantBlocksFn dequant = avx2::avx2_dequantizer(p.type);
  const int64_t K = p.cols;
  auto* rows = static_cast<float*>(scratch);
  float* panel = rows + kTileRows * K;
  for (int64_t rt = r0; rt < r1; rt += kTileRows) {
    const int nr = static_cast<int>(std::min(kTileRows, r1 - rt));
    decode_panel(p, dequant, rt, nr, rows, panel);
    for (int64_t k0 = 0; k0 < K; k0 += kPrefillSegCols) {
      const int64_t n = std::min(kPrefillSegCols, K - k0);
      for (int64_t i0 = 0; i0 < p.m; i0 += kXBlock) {
        const int na = static_cast<int>(std::min(kXBlock, p.m - i0));
        panel_block_n(na, panel + k0 * kTileRows, p.x + i0 * K + k0, K, n, p.y + i0 * p.rows + rt,
                      p.rows, nr, k0 > 0);
      }
    }
  }
}

size_t gemm_scratch(QuantType, int64_t cols, int64_t) {
  return static_cast<size_t>(2 * kTileRows * cols) * sizeof(float);  // rows + panel
}

const QuantKernelSet kAvx2Set = {
    "avx2-dequantize-tile",  // decode tiles are 4 rows x kSegCols (or the integer GEMV, rounded)
    "avx2-dequantize-tile",
    kGemvMaxM,
    {gemv_rows, kGemvRows, gemv_scratch, gemv_prep_bytes, gemv_prepare_x, gemv_fast_rounding},
    {gemm_rows, kTileRows, gemm_scratch, nullptr, nullptr, nullptr},
};

}  // namespace

const QuantKernelSet& quant_kernels_avx2() {
  return kAvx2Set;
}

}  // namespace insitu::kernels
