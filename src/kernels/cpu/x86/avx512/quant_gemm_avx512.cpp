// AVX-512 GEMM for quantized weights (prefill on hosts without AMX, or with the ISA capped at
// avx512). With QuantProblem::round_x it runs the BF16 kernel (quant_gemm_bf16_avx512.cpp,
// OperandRounding::kBf16). Exact: each block of kPanelRows weight rows is decoded once per call
// into an f32 panel (amortised over all m activation rows), then a 4x4 register-blocked FMA
// microkernel computes 4 activations x 4 outputs at a time with f32 accumulation (f32-grade
// error, no rounding of weights or activations).
#include <algorithm>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

// One row group (quant/layout/row_groups.h): a row-group matrix's panel is one group.
constexpr int64_t kPanelRows = 16;

// y[i0 + a, r0 + b] for a < MI, b < RJ; w = panel rows (stride K floats), K a multiple of 16.
template <int MI, int RJ>
inline void micro(const float* x, const float* w, int64_t K, float* y, int64_t ldy) {
  __m512 acc[MI][RJ];
#pragma GCC unroll 4
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < RJ; ++b) acc[a][b] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += 16) {
    __m512 wv[RJ];
#pragma GCC unroll 4
    for (int b = 0; b < RJ; ++b) wv[b] = _mm512_load_ps(w + b * K + k);
#pragma GCC unroll 4
    for (int a = 0; a < MI; ++a) {
      const __m512 xv = _mm512_loadu_ps(x + a * K + k);
#pragma GCC unroll 4
      for (int b = 0; b < RJ; ++b) acc[a][b] = _mm512_fmadd_ps(xv, wv[b], acc[a][b]);
    }
  }
#pragma GCC unroll 4
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < RJ; ++b) y[a * ldy + b] = _mm512_reduce_add_ps(acc[a][b]);
}

template <int MI>
inline void micro_rows(const float* x, const float* w, int64_t K, float* y, int64_t ldy, int rj) {
  switch (rj) {
    case 1: micro<MI, 1>(x, w, K, y, ldy); break;
    case 2: micro<MI, 2>(x, w, K, y, ldy); break;
    case 3: micro<MI, 3>(x, w, K, y, ldy); break;
    default: micro<MI, 4>(x, w, K, y, ldy); break;
  }
}

void gemm_f32(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  const int64_t K = p.cols, nb = K / dec.block;
  auto* panel = static_cast<float*>(scratch);
  auto* group_rows = static_cast<uint8_t*>(scratch) + kPanelRows * K * sizeof(float);
  for (int64_t rb = r0; rb < r1; rb += kPanelRows) {
    const int64_t nr = r1 - rb < kPanelRows ? r1 - rb : kPanelRows;
    const uint8_t* rows = p.w + static_cast<size_t>(rb) * p.row_bytes;
    if (p.row_groups) {  // rb starts a group of 16 rows: back to the row format first
      unpack_group_columns(p.type, rows, nb, group_rows, p.row_bytes);
      rows = group_rows;
    }
    for (int64_t j = 0; j < nr; ++j) dec.values(rows + j * p.row_bytes, 0, nb, panel + j * K);
    for (int64_t i = 0; i < p.m; i += 4) {
      const int mi = p.m - i < 4 ? static_cast<int>(p.m - i) : 4;
      for (int64_t j = 0; j < nr; j += 4) {
        const int rj = nr - j < 4 ? static_cast<int>(nr - j) : 4;
        const float* x = p.x + i * K;
        const float* w = panel + j * K;
        float* y = p.y + i * p.rows + rb + j;
        switch (mi) {
          case 1: micro_rows<1>(x, w, K, y, p.rows, rj); break;
          case 2: micro_rows<2>(x, w, K, y, p.rows, rj); break;
          case 3: micro_rows<3>(x, w, K, y, p.rows, rj); break;
          default: micro_rows<4>(x, w, K, y, p.rows, rj); break;
        }
      }
    }
  }
}

}  // namespace

size_t quant_gemm_scratch_bytes(QuantType type, int64_t cols, int64_t) {
  const size_t f32_path = kPanelRows * (cols * sizeof(float) + quant_row_bytes(type, cols));
  return std::max(f32_path, quant_gemm_bf16_scratch_bytes());
}

size_t quant_gemm_prep_bytes(int64_t m, int64_t cols) {
  return quant_gemm_bf16_prep_bytes(m, cols);
}

void quant_gemm_prepare_x(QuantType, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out) {
  if (round_x) quant_gemm_bf16_prepare_x(x, m, cols, i0, i1, out);
}

OperandRounding quant_gemm_fast_rounding(QuantType) {
  return OperandRounding::kBf16;
}

void quant_gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  if (p.round_x)
    quant_gemm_bf16(p, r0, r1, scratch);
  else
    gemm_f32(p, r0, r1, scratch);
}

}  // namespace insitu::kernels::avx512
