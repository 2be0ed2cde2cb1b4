// AVX-512 BF16 GEMM for quantized weights: prefill on hosts without AMX when the matmul
// precision lets the kernel round its operands (QuantProblem::round_x, OperandRounding::kBf16:
// the same rounding as the AMX fast path). vdpbf16ps does 32 multiply-adds per instruction where
// an f32 FMA does 16, at the same issue rate (measured on Zen 5: both ~2 per cycle), so this
// path has twice the f32 FMA kernel's peak.
//
// Weights: kRowsPerMicro rows x kKc columns at a time are decoded to f32 and staged as bf16 B
// tiles (bf16_tiles::stage_b_tiles, the AMX kernel's staging: 16 K pairs x 16 rows per tile),
// once per call and weight, amortised over the m activation rows. Activations: rounded to bf16
// once per call as A tiles (16 rows x 32 columns contiguous), so the 8 rows one microkernel
// reads sit 64 bytes apart.
// Microkernel: 8 activation rows x 48 weight rows, 24 zmm accumulators, each K pair one
// broadcast of an activation pair against three 16-row weight vectors: outputs come out as
// 16 consecutive y elements per accumulator, no horizontal reductions. Loop order: each staged
// 48 x kKc weight block (24 KiB, L1) against every 8-row activation block (4 KiB, from L2);
// partial sums go through y between K chunks.
#include <cstring>

#include "kernels/cpu/x86/avx512/bf16_tiles_avx512.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kMi = 8;                         // activation rows per microkernel (divides 16)
constexpr int kVecs = 3;                       // 16-row weight vectors per microkernel
constexpr int64_t kRowsPerMicro = 16 * kVecs;  // weight rows staged together
constexpr int64_t kKc = 256;                   // columns staged together (multiple of 32)
using bf16_tiles::kTileU16;
using bf16_tiles::round_up;

// Scratch: the staged B tiles, the f32 decode buffer of one 16-row tile, one row-group tile's
// rows in the row format (unused: this path takes rows; kept for stage_b_tiles' signature).
constexpr size_t kStageBytes = kRowsPerMicro * kKc * sizeof(uint16_t);
constexpr size_t kDecodeBytes = 16 * kKc * sizeof(float);
constexpr size_t kGroupRowsBytes = 16 * kKc * 2;

// y[a][16 v + j] (a < MI, v < NV, j < 16; row stride ldy, first ncol columns valid) += the
// product of the staged tiles (w: tile v of K step s at w + (v * ksteps + s) * kTileU16) and
// the activation rows at x (row a of K step s at x + s * kTileU16 + 32 a). `first`: y is not
// read (the first K chunk).
template <int MI, int NV>
void micro(const uint16_t* x, const uint16_t* w, int64_t ksteps, float* y, int64_t ldy,
           int64_t ncol, bool first) {
  __m512 acc[MI][NV];
  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t n = ncol - 16 * v;
    mask[v] = tail_mask16(n < 0 ? 0 : n > 16 ? 16 : n);
  }
#pragma GCC unroll 8
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[a][v] =
          first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask[v], y + a * ldy + 16 * v);
  for (int64_t s = 0; s < ksteps; ++s) {
    const uint16_t* xs = x + s * kTileU16;
    const uint16_t* ws = w + s * kTileU16;
#pragma GCC unroll 4
    for (int kp = 0; kp < 16; ++kp) {
      __m512bh wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        wv[v] = reinterpret_cast<__m512bh>(_mm512_load_si512(ws + v * ksteps * kTileU16 + kp * 32));
#pragma GCC unroll 8
      for (int a = 0; a < MI; ++a) {
        int32_t pair;
        std::memcpy(&pair, xs + a * 32 + kp * 2, sizeof(pair));
        const __m512bh xb = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[a][v] = _mm512_dpbf16_ps(acc[a][v], xb, wv[v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < MI; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(y + a * ldy + 16 * v, mask[v], acc[a][v]);
}

using MicroFn = void (*)(const uint16_t*, const uint16_t*, int64_t, float*, int64_t, int64_t, bool);

template <int NV>
MicroFn micro_for(int mi) {
  switch (mi) {
    case 1: return micro<1, NV>;
    case 2: return micro<2, NV>;
    case 3: return micro<3, NV>;
    case 4: return micro<4, NV>;
    case 5: return micro<5, NV>;
    case 6: return micro<6, NV>;
    case 7: return micro<7, NV>;
    default: return micro<8, NV>;
  }
}

MicroFn micro_for(int mi, int nv) {
  switch (nv) {
    case 1: return micro_for<1>(mi);
    case 2: return micro_for<2>(mi);
    default: return micro_for<3>(mi);
  }
}

}  // namespace

size_t quant_gemm_bf16_scratch_bytes() {
  return kStageBytes + kDecodeBytes + kGroupRowsBytes;
}

size_t quant_gemm_bf16_prep_bytes(int64_t m, int64_t cols) {
  return bf16_tiles::a_plane_u16(m, cols) * sizeof(uint16_t);
}

// cols is a multiple of 32 for every quantized type.
void quant_gemm_bf16_prepare_x(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
                               void* out) {
  bf16_tiles::prepare_a_tiles(x, m, cols, cols, i0, i1, out, /*with_lo=*/false);
}

void quant_gemm_bf16(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  const int64_t K = p.cols;
  auto* stage = static_cast<uint16_t*>(scratch);
  auto* decode = reinterpret_cast<float*>(static_cast<uint8_t*>(scratch) + kStageBytes);
  auto* group_rows = static_cast<uint8_t*>(scratch) + kStageBytes + kDecodeBytes;
  const auto* x_plane = static_cast<const uint16_t*>(p.xprep);
  const int64_t k_steps_total = K / 32;
  for (int64_t rb = r0; rb < r1; rb += kRowsPerMicro) {
    const int64_t nrows = r1 - rb < kRowsPerMicro ? r1 - rb : kRowsPerMicro;
    const int nv = static_cast<int>((nrows + 15) / 16);
    for (int64_t kc = 0; kc < K; kc += kKc) {
      const int64_t kcl = K - kc < kKc ? K - kc : kKc;
      bf16_tiles::stage_b_tiles<true>(p, dec, rb, nrows, kc, kcl, nv, stage, decode, kKc,
                                      group_rows);
      for (int64_t a0 = 0; a0 < p.m; a0 += kMi) {
        const int mi = p.m - a0 < kMi ? static_cast<int>(p.m - a0) : kMi;
        const uint16_t* x =
            x_plane + ((a0 / 16) * k_steps_total + kc / 32) * kTileU16 + (a0 % 16) * 32;
        micro_for(mi, nv)(x, stage, kcl / 32, p.y + a0 * p.rows + rb, p.rows, nrows, kc == 0);
      }
    }
  }
}

}  // namespace insitu::kernels::avx512
