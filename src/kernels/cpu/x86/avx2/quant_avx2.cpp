// AVX2 quantized matmul for hosts without AVX-512: dequantize, then multiply in f32 with FMA.
// Weights are decoded by the AVX2 row dequantizers (quant_decode_avx2.h: bit-identical to the
// registry's reference dequantizers, vectorised for every quantized type), so the products are
// against the exact weights.
//   decode (m <= 4): the integer GEMV (quant_gemv_int_avx2.h) in rounded mode for the types it
//     takes, the fused exact GEMV (quant_gemv_q8_avx2.h) for the byte-code types and fp8; the
//     rest (exact mode below 8 bits) here: 4 rows at a time are decoded in column segments of
//     ~1024 (kSegCols) that stay in L1 and are dotted with every activation row at once; 8-lane
//     accumulators per (activation, row) carry over the segments. The 4 rows come from 4
//     stripes of the thread's chunk (row_stripes.h), each prefetched one segment ahead.
//   prefill (m > 4): a tile of 16 rows is decoded once (amortised over m) into a column-major
//     panel, then swept in 256-column segments by an outer-product microkernel (6 activation
//     rows x 16 weight rows per register block; panel_gemm_avx2.h, shared with the dense GEMM).
// f32 accumulation (decode: 8 lanes per output; prefill: 256-product chains added to y):
// f32-grade error.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx2/panel_gemm_avx2.h"
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"
#include "kernels/cpu/x86/avx2/quant_gemv_int_avx2.h"
#include "kernels/cpu/x86/avx2/quant_gemv_q8_avx2.h"
#include "kernels/cpu/x86/avx2/simd256.h"

namespace insitu::kernels {
namespace {

constexpr int kGemvRows = 4;  // decode rows per pass (4 stripes: row_stripes.h)
constexpr int64_t kGemvMaxM = 4;
constexpr int64_t kSegCols = 1024;  // decode column segment: 4 rows x 4 KiB f32

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
  if (avx2::quant_gemv_q8_supported(p.type)) {  // exact in either mode
    avx2::quant_gemv_q8(p, r0, r1);
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

// Decodes rows rt..rt + nr - 1 (nr <= kPanelRows) into the panel, rows past nr zero. `rows` is
// kPanelRows * K floats of scratch for the row-major decode.
void decode_panel(const QuantProblem& p, avx2::DequantBlocksFn dequant, int64_t rt, int nr,
                  float* rows, float* panel) {
  const int64_t K = p.cols, nblocks = K / quant_info(p.type).block_size;
  for (int j = 0; j < kPanelRows; ++j) {
    if (j < nr)
      dequant(p.w + static_cast<size_t>(rt + j) * p.row_bytes, 0, nblocks, rows + j * K);
    else
      std::fill_n(rows + j * K, K, 0.f);
  }
  for (int64_t k = 0; k < K; k += 8) {
    __m256 r[2][8];
    for (int i = 0; i < kPanelRows; ++i) r[i / 8][i % 8] = _mm256_loadu_ps(rows + i * K + k);
    store_panel_columns(r, panel, k);
  }
}

// Each tile of kPanelRows rows is decoded once (amortised over m) into a panel and swept by
// panel_sweep (panel_gemm_avx2.h).
void gemm_rows(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx2::DequantBlocksFn dequant = avx2::avx2_dequantizer(p.type);
  const int64_t K = p.cols;
  auto* rows = static_cast<float*>(scratch);
  float* panel = rows + kPanelRows * K;
  for (int64_t rt = r0; rt < r1; rt += kPanelRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kPanelRows, r1 - rt));
    decode_panel(p, dequant, rt, nr, rows, panel);
    panel_sweep(panel, p.x, K, p.m, p.y + rt, p.rows, nr);
  }
}

size_t gemm_scratch(QuantType, int64_t cols, int64_t) {
  return static_cast<size_t>(2 * kPanelRows * cols) * sizeof(float);  // rows + panel
}

const QuantKernelSet kAvx2Set = {
    "avx2-dequantize-tile",  // decode tiles are 4 rows x kSegCols (or the integer GEMV, rounded)
    "avx2-dequantize-tile",
    kGemvMaxM,
    {gemv_rows, kGemvRows, gemv_scratch, gemv_prep_bytes, gemv_prepare_x, gemv_fast_rounding},
    {gemm_rows, kPanelRows, gemm_scratch, nullptr, nullptr, nullptr},
};

}  // namespace

const QuantKernelSet& quant_kernels_avx2() {
  return kAvx2Set;
}

}  // namespace insitu::kernels
