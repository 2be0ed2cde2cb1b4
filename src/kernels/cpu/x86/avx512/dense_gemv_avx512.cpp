// AVX-512 GEMV for dense weights (decode, m <= kGemvMaxM): every weight row is streamed from
// memory exactly once; kRows rows are processed together so each loaded activation vector
// feeds kRows * M independent FMA chains. Bandwidth bound: the goal is to keep enough loads
// in flight, not to save FLOPs. As the quantized decode kernels do, the kRows rows of a block
// come from kRows stripes of the thread's chunk (for_each_row_stripe_block: separate DRAM
// streams, where adjacent rows were one), each prefetched kPrefetchAheadBytes ahead: bf16
// decode on Zen 5 went from ~23 GB/s per matrix (adjacent rows, 1 KiB ahead) to the numbers in
// docs/performance.md ("Session 11 update").
#include "kernels/cpu/activation_groups.h"
#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx512/avx512_kernels.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

// Rows r + j * rs, j < R.
template <int M, int R, class L>
inline void gemv_block(const DenseProblem& p, int64_t r, int64_t rs) {
  const int64_t K = p.cols;
  const int64_t kmain = K & ~int64_t{15};
  constexpr int64_t kColsPerLine = 64 / L::kBytes;
  const uint8_t* wr[R];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j) wr[j] = p.w + static_cast<size_t>(r + j * rs) * p.row_bytes;
  __m512 acc[R][M];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[j][i] = _mm512_setzero_ps();
  for (int64_t c = 0; c < kmain; c += 16) {
    __m512 xv[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) xv[i] = _mm512_loadu_ps(p.x + i * K + c);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) {
      if (c % kColsPerLine == 0)  // one line per row and line
        _mm_prefetch(reinterpret_cast<const char*>(wr[j] + c * L::kBytes + kPrefetchAheadBytes),
                     _MM_HINT_T0);
      const __m512 wv = L::load(wr[j], c);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[j][i] = _mm512_fmadd_ps(wv, xv[i], acc[j][i]);
    }
  }
  if (kmain < K) {
    const __mmask16 k = tail_mask16(K - kmain);
    __m512 xv[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) xv[i] = _mm512_maskz_loadu_ps(k, p.x + i * K + kmain);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) {
      const __m512 wv = L::load_mask(wr[j], kmain, k);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[j][i] = _mm512_fmadd_ps(wv, xv[i], acc[j][i]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = _mm512_reduce_add_ps(acc[j][i]);
}

template <int M, class L>
void gemv_m(const DenseProblem& p, int64_t r0, int64_t r1) {
  // 4 rows x M activations keeps <= 16 accumulators live (32 zmm registers in total).
  constexpr int kRows = 4;
  for_each_row_stripe_block<kRows>(
      r0, r1, [&](int64_t r, int64_t rs, int64_t, int) { gemv_block<M, kRows, L>(p, r, rs); },
      [&](int64_t r, int64_t, int64_t, int) { gemv_block<M, 1, L>(p, r, 1); });
}

template <class L>
void gemv_any(const DenseProblem& p, int64_t r0, int64_t r1) {
  for_each_activation_group(
      p, [&](auto m, const DenseProblem& q) { gemv_m<decltype(m)::value, L>(q, r0, r1); });
}

}  // namespace

void gemv_f32(const DenseProblem& p, int64_t r0, int64_t r1, void*) {
  gemv_any<LoadF32>(p, r0, r1);
}
void gemv_f16(const DenseProblem& p, int64_t r0, int64_t r1, void*) {
  gemv_any<LoadF16>(p, r0, r1);
}
void gemv_bf16(const DenseProblem& p, int64_t r0, int64_t r1, void*) {
  gemv_any<LoadBF16>(p, r0, r1);
}

}  // namespace insitu::kernels::avx512
