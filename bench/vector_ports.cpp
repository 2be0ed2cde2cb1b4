// Issue rate of the 512-bit ops the decode kernels are built from, alone and in pairs: which of
// them share an execution port on this host (docs/performance.md, "Session 10 update"). 16
// independent dependency chains per measurement, so latency does not limit; prints ns per op.
// Two ops that co-issue show half the time of one alone. Needs AVX-512 VNNI and GFNI.
#include <immintrin.h>

#include <chrono>
#include <cstdio>

#include "core/cpu_features.h"

namespace {

enum class Op { kGf2, kDpbusd, kTernlog, kShuffle };

#define INSITU_PORTS_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,gfni")))

template <Op op>
INSITU_PORTS_TARGET inline __m512i apply(__m512i v, __m512i k) {
  if constexpr (op == Op::kGf2) return _mm512_gf2p8affine_epi64_epi8(v, k, 0);
  if constexpr (op == Op::kDpbusd) return _mm512_dpbusd_epi32(v, k, k);
  if constexpr (op == Op::kTernlog) return _mm512_ternarylogic_epi32(v, k, k, 0xF8);
  return _mm512_shuffle_epi8(v, k);
}

// ns per op: chains 0..7 run A, chains 8..15 run B.
template <Op A, Op B>
INSITU_PORTS_TARGET __attribute__((noinline)) double ns_per_op() {
  constexpr long kIters = 20'000'000;
  const __m512i k = _mm512_set1_epi64(0x0102040810204080LL);
  // Named variables, not arrays: GCC keeps arrays on the stack and reloads them every iteration.
  __m512i a0 = _mm512_set1_epi32(1), a1 = _mm512_set1_epi32(2), a2 = _mm512_set1_epi32(3),
          a3 = _mm512_set1_epi32(4), a4 = _mm512_set1_epi32(5), a5 = _mm512_set1_epi32(6),
          a6 = _mm512_set1_epi32(7), a7 = _mm512_set1_epi32(8);
  __m512i b0 = a0, b1 = a1, b2 = a2, b3 = a3, b4 = a4, b5 = a5, b6 = a6, b7 = a7;
  const auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < kIters; ++it) {
    a0 = apply<A>(a0, k), a1 = apply<A>(a1, k), a2 = apply<A>(a2, k), a3 = apply<A>(a3, k);
    a4 = apply<A>(a4, k), a5 = apply<A>(a5, k), a6 = apply<A>(a6, k), a7 = apply<A>(a7, k);
    b0 = apply<B>(b0, k), b1 = apply<B>(b1, k), b2 = apply<B>(b2, k), b3 = apply<B>(b3, k);
    b4 = apply<B>(b4, k), b5 = apply<B>(b5, k), b6 = apply<B>(b6, k), b7 = apply<B>(b7, k);
    // Keeps every chain in a register and every op in the loop.
    asm volatile(""
                 : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7));
    asm volatile(""
                 : "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3), "+v"(b4), "+v"(b5), "+v"(b6), "+v"(b7));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s * 1e9 / (kIters * 16.0);
}

}  // namespace

int main() {
  const insitu::CpuFeatures& f = insitu::cpu_features();
  if (!f.avx512vnni || !f.gfni) {
    std::puts("vector_ports: needs AVX-512 VNNI and GFNI");
    return 0;
  }
  for (int round = 0; round < 2; ++round) {  // the first round warms the clock up
    std::printf("round %d\n", round);
    std::printf("  gf2 alone          %.3f ns/op\n", ns_per_op<Op::kGf2, Op::kGf2>());
    std::printf("  vpdpbusd alone     %.3f\n", ns_per_op<Op::kDpbusd, Op::kDpbusd>());
    std::printf("  ternlog alone      %.3f\n", ns_per_op<Op::kTernlog, Op::kTernlog>());
    std::printf("  gf2 + vpshufb      %.3f\n", ns_per_op<Op::kGf2, Op::kShuffle>());
    std::printf("  gf2 + vpdpbusd     %.3f\n", ns_per_op<Op::kGf2, Op::kDpbusd>());
    std::printf("  vpdpbusd + vpshufb %.3f\n", ns_per_op<Op::kDpbusd, Op::kShuffle>());
  }
}
