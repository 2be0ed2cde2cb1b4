// AVX-512 f32-FMA GEMM for dense weights (prefill without AMX) and the AVX-512 kernel table.
//
// Blocking: each thread walks its output rows in panels of kNr = 32 weight rows. A panel is
// widened to f32 and transposed once into scratch as [K][32] (so the weight conversion is paid
// once per call, not once per activation row), then a kMr x 32 register tile (kMr activation
// rows broadcast, two zmm of outputs) sweeps all activation rows over the full K.
// Activations are repacked once per call into blocks of kMr rows interleaved by column
// ([m/kMr][K][kMr]): the kMr broadcasts of one k then share a cache line, instead of touching
// kMr rows whose power-of-two strides would collide in one L1 set.
// Accumulation order differs from the reference only by f32 rounding.
#include "kernels/cpu/x86/avx512/avx512_kernels.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int64_t kNr = 32;  // weight rows per panel (2 zmm of outputs)
constexpr int kMr = 12;      // activation rows per register tile: 24 accumulators

// panel[k * 32 + j] = W[r + j, k] as f32 for j < nvalid, zero for j >= nvalid.
template <class L>
void pack_panel(const DenseProblem& p, int64_t r, int64_t nvalid, float* panel) {
  const int64_t K = p.cols;
  for (int h = 0; h < 2; ++h) {
    for (int64_t c = 0; c < K; c += 16) {
      const int64_t nc = K - c < 16 ? K - c : 16;
      const __mmask16 km = tail_mask16(nc);
      __m512i t[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        const int64_t row = h * 16 + j;
        if (row < nvalid) {
          const uint8_t* wr = p.w + static_cast<size_t>(r + row) * p.row_bytes;
          t[j] = _mm512_castps_si512(nc == 16 ? L::load(wr, c) : L::load_mask(wr, c, km));
        } else {
          t[j] = _mm512_setzero_si512();
        }
      }
      transpose16x16_epi32(t);
      for (int64_t u = 0; u < nc; ++u) _mm512_storeu_si512(panel + (c + u) * kNr + h * 16, t[u]);
    }
  }
}

// xp: one packed activation block, xp[k * kMr + i].
template <int MR>
void micro_tile(const float* xp, int64_t K, const float* panel, float* y, int64_t ldy, __mmask16 m0,
                __mmask16 m1) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + k * kNr);
    const __m512 b1 = _mm512_loadu_ps(panel + k * kNr + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(xp[k * kMr + i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, c0[i]);
    _mm512_mask_storeu_ps(y + i * ldy + 16, m1, c1[i]);
  }
}

using MicroFn = void (*)(const float*, int64_t, const float*, float*, int64_t, __mmask16,
                         __mmask16);
constexpr MicroFn kMicro[kMr + 1] = {nullptr,       micro_tile<1>, micro_tile<2>,  micro_tile<3>,
                                     micro_tile<4>, micro_tile<5>, micro_tile<6>,  micro_tile<7>,
                                     micro_tile<8>, micro_tile<9>, micro_tile<10>, micro_tile<11>,
                                     micro_tile<12>};

size_t prep_bytes(int64_t m, int64_t cols) {
  return static_cast<size_t>((m + kMr - 1) / kMr) * kMr * cols * sizeof(float);
}

// Packs activation rows [i0, i1) (i0 is a multiple of 16, the dispatcher's grain, so blocks
// may straddle chunks: each row writes only its own lane). The last block's missing rows are
// zeroed by whoever packs row m - 1.
void prepare_x(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1, void* out) {
  float* xp = static_cast<float*>(out);
  const int64_t iend = i1 == m ? (m + kMr - 1) / kMr * kMr : i1;
  for (int64_t i = i0; i < iend; ++i) {
    float* dst = xp + (i / kMr) * kMr * cols + i % kMr;
    if (i < m) {
      const float* src = x + i * cols;
      for (int64_t k = 0; k < cols; ++k) dst[k * kMr] = src[k];
    } else {
      for (int64_t k = 0; k < cols; ++k) dst[k * kMr] = 0.f;
    }
  }
}

template <class L>
void gemm(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch) {
  float* panel = static_cast<float*>(scratch);
  const float* xp = static_cast<const float*>(p.xprep);
  for (int64_t r = r0; r < r1; r += kNr) {
    const int64_t nvalid = r1 - r < kNr ? r1 - r : kNr;
    pack_panel<L>(p, r, nvalid, panel);
    const __mmask16 m0 = tail_mask16(nvalid);
    const __mmask16 m1 = tail_mask16(nvalid > 16 ? nvalid - 16 : 0);
    for (int64_t i = 0; i < p.m; i += kMr) {
      const int64_t mr = p.m - i < kMr ? p.m - i : kMr;
      kMicro[mr](xp + i * p.cols, p.cols, panel, p.y + i * p.rows + r, p.rows, m0, m1);
    }
  }
}

void gemm_f32(const DenseProblem& p, int64_t r0, int64_t r1, void* s) {
  gemm<LoadF32>(p, r0, r1, s);
}
void gemm_f16(const DenseProblem& p, int64_t r0, int64_t r1, void* s) {
  gemm<LoadF16>(p, r0, r1, s);
}
void gemm_bf16(const DenseProblem& p, int64_t r0, int64_t r1, void* s) {
  gemm<LoadBF16>(p, r0, r1, s);
}

size_t scratch_bytes(int, int64_t cols, int64_t) {
  return static_cast<size_t>(cols) * kNr * sizeof(float);
}

const DenseKernelSet kAvx512Set = {
    "avx512",
    {gemv_f32, gemv_f16, gemv_bf16},
    {gemm_f32, gemm_f16, gemm_bf16},
    kNr,
    scratch_bytes,
    prep_bytes,
    prepare_x,
};

}  // namespace
}  // namespace insitu::kernels::avx512

namespace insitu::kernels {
const DenseKernelSet& dense_kernels_avx512() {
  return avx512::kAvx512Set;
}
}  // namespace insitu::kernels
