// This machine's roofline: memory read bandwidth (AVX-512 loads over a buffer far larger than
// L3, the best of 1, 2, 4 and 8 interleaved streams per thread), the f32 FMA, bf16 dot
// (vdpbf16ps) and int8 dot (vpdpbusd) peaks (AVX-512, independent chains in registers) and AMX-BF16
// peak (TDPBF16PS on resident tiles), each with 1 and 2 threads. Prints one JSON object. The
// measuring loops carry target attributes because bench code is compiled for the baseline ISA; each
// is only called after cpu_features() confirms support.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu_features.h"

namespace {

using Clock = std::chrono::steady_clock;

// Runs fn(thread_index) on n threads started together; returns wall seconds.
template <class Fn>
double run_threads(int n, Fn fn) {
  std::vector<std::thread> ts;
  const auto t0 = Clock::now();
  for (int i = 1; i < n; ++i) ts.emplace_back(fn, i);
  fn(0);
  for (auto& t : ts) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Reads [p, p + bytes) as S interleaved sequential streams (S equal stripes, one 256-byte step
// of each per iteration). One stream per core understates what this host's memory delivers:
// session 6 measured 17-21 GB/s with one stream per thread and 24-31 with four, and the decode
// kernels reach the latter once they read several stripes at once. The bound is the best over S.
template <int S>
__attribute__((target("avx512f"))) uint64_t read_sum(const uint8_t* p, size_t bytes) {
  const size_t stripe = bytes / S / 256 * 256;
  __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                  _mm512_setzero_si512()};
  for (size_t i = 0; i < stripe; i += 256)
    for (int k = 0; k < S; ++k)
      for (int l = 0; l < 4; ++l)
        a[l] = _mm512_xor_si512(a[l], _mm512_load_si512(p + k * stripe + i + 64 * l));
  const __m512i x = _mm512_xor_si512(_mm512_xor_si512(a[0], a[1]), _mm512_xor_si512(a[2], a[3]));
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(x));
}

// GB/s reading `bytes` split evenly between threads, S streams per thread; best of `reps`.
template <int S>
double memory_bandwidth(const uint8_t* buf, size_t bytes, int threads, int reps) {
  double best = 0;
  volatile uint64_t sink = 0;
  const size_t chunk = bytes / threads / (256 * S) * (256 * S);
  for (int r = 0; r < reps; ++r) {
    const double s =
        run_threads(threads, [&](int t) { sink = sink + read_sum<S>(buf + t * chunk, chunk); });
    best = std::max(best, chunk * threads / s / 1e9);
  }
  return best;
}

// GB/s with 1, 2, 4 and 8 streams per thread; the bound is the best of them.
struct Bandwidth {
  double per_streams[4] = {};
  int best_index() const {
    return static_cast<int>(std::max_element(per_streams, per_streams + 4) - per_streams);
  }
  double best() const { return per_streams[best_index()]; }
  int streams() const { return 1 << best_index(); }
};
Bandwidth measure_bandwidth(const uint8_t* buf, size_t bytes, int threads, int reps) {
  return {{memory_bandwidth<1>(buf, bytes, threads, reps),
           memory_bandwidth<2>(buf, bytes, threads, reps),
           memory_bandwidth<4>(buf, bytes, threads, reps),
           memory_bandwidth<8>(buf, bytes, threads, reps)}};
}

// Register peaks: 24 independent accumulators (enough to cover latency x 2 ports) updated by one
// instruction kind. The inner loop must be unrolled: left as a loop over an array, GCC kept the
// accumulators in memory, and the f32 figure read 60 GFLOP/s per core on Zen 5 (store
// forwarding latency) where the tiled GEMM sustains 170-180.
enum class PeakOp { kF32Fma, kBf16Dot, kInt8Dot };

template <PeakOp kOp>
__attribute__((target("avx512f,avx512bf16,avx512vnni"))) float peak_loop(int64_t iters) {
  __m512 acc[24];
#pragma GCC unroll 24
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  const __m512i ai = _mm512_set1_epi8(1), bi = _mm512_set1_epi8(2);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
      if constexpr (kOp == PeakOp::kF32Fma)
        acc[i] = _mm512_fmadd_ps(acc[i], a, b);
      else if constexpr (kOp == PeakOp::kBf16Dot)
        acc[i] = _mm512_dpbf16_ps(acc[i], reinterpret_cast<__m512bh>(ai),
                                  reinterpret_cast<__m512bh>(bi));
      else
        acc[i] = _mm512_castsi512_ps(_mm512_dpbusd_epi32(_mm512_castps_si512(acc[i]), ai, bi));
    }
  }
  __m512 s = acc[0];
#pragma GCC unroll 24
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_cvtss_f32(s);  // a sink: one lane keeps every chain live
}

// GFLOP/s (f32 FMA, bf16 dot: 2 per multiply-add) or GOP/s (int8 dot) of one instruction kind.
template <PeakOp kOp>
double register_peak(int threads, int64_t iters) {
  constexpr double kMacsPerOp = kOp == PeakOp::kF32Fma ? 16 : kOp == PeakOp::kBf16Dot ? 32 : 64;
  volatile float sink = 0;
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    const double s = run_threads(threads, [&](int) { sink = sink + peak_loop<kOp>(iters); });
    best = std::max(best, threads * iters * 24.0 * kMacsPerOp * 2 / s / 1e9);
  }
  return best;
}

struct alignas(64) TileConfig {
  uint8_t palette_id, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// C tiles 0-3 += A tiles 4,5 x B tiles 6,7; operands stay in tile registers.
__attribute__((target("amx-tile,amx-bf16"))) void amx_loop(int64_t iters, float* out) {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  alignas(64) static thread_local uint16_t ab[16 * 32];
  for (auto& v : ab) v = 0x3f80;  // bf16 1.0
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ab, 64);
  _tile_loadd(5, ab, 64);
  _tile_loadd(6, ab, 64);
  _tile_loadd(7, ab, 64);
  for (int64_t i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
}

double amx_peak(int threads, int64_t iters) {
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    const double s = run_threads(threads, [&](int) {
      alignas(64) float out[256];
      amx_loop(iters, out);
    });
    best = std::max(best, threads * iters * 4.0 * 16 * 16 * 32 * 2 / s / 1e9);
  }
  return best;
}

}  // namespace

int main() {
  const insitu::CpuFeatures& f = insitu::cpu_features();
  if (!f.avx512f) {
    std::printf("{\"error\": \"roofline needs AVX-512\"}\n");
    return 1;
  }
  constexpr size_t kBytes = size_t{2} << 30;  // 2 GiB: far beyond the 300 MiB L3
  auto* buf = static_cast<uint8_t*>(::operator new (kBytes, std::align_val_t{64}));
  std::memset(buf, 1, kBytes);  // fault every page in before timing
  const Bandwidth bw1 = measure_bandwidth(buf, kBytes, 1, 3);
  const Bandwidth bw2 = measure_bandwidth(buf, kBytes, 2, 3);
  ::operator delete (buf, std::align_val_t{64});
  const int64_t fma_iters = 20'000'000;
  const double fma1 = register_peak<PeakOp::kF32Fma>(1, fma_iters),
               fma2 = register_peak<PeakOp::kF32Fma>(2, fma_iters);
  double bf16_1 = 0, bf16_2 = 0, int8_1 = 0, int8_2 = 0;
  if (f.avx512bf16) {
    bf16_1 = register_peak<PeakOp::kBf16Dot>(1, fma_iters);
    bf16_2 = register_peak<PeakOp::kBf16Dot>(2, fma_iters);
  }
  if (f.avx512vnni) {
    int8_1 = register_peak<PeakOp::kInt8Dot>(1, fma_iters);
    int8_2 = register_peak<PeakOp::kInt8Dot>(2, fma_iters);
  }
  double amx1 = 0, amx2 = 0;
  if (f.amx_bf16) {
    const int64_t amx_iters = 2'000'000;
    amx1 = amx_peak(1, amx_iters);
    amx2 = amx_peak(2, amx_iters);
  }
  std::printf(
      "{\n  \"isa\": \"%s\",\n  \"mem_read_GBps\": {\"1\": %.2f, \"2\": %.2f},\n"
      "  \"mem_read_streams_per_thread\": {\"1\": %d, \"2\": %d},\n"
      "  \"mem_read_GBps_by_streams_2_threads\": {\"1\": %.2f, \"2\": %.2f, \"4\": %.2f, "
      "\"8\": %.2f},\n"
      "  \"f32_fma_GFLOPs\": {\"1\": %.1f, \"2\": %.1f},\n"
      "  \"avx512_bf16_dot_GFLOPs\": {\"1\": %.1f, \"2\": %.1f},\n"
      "  \"avx512_vnni_int8_GOPs\": {\"1\": %.1f, \"2\": %.1f},\n"
      "  \"amx_bf16_GFLOPs\": {\"1\": %.1f, \"2\": %.1f}\n}\n",
      std::string(insitu::isa_name(insitu::detected_isa())).c_str(), bw1.best(), bw2.best(),
      bw1.streams(), bw2.streams(), bw2.per_streams[0], bw2.per_streams[1], bw2.per_streams[2],
      bw2.per_streams[3], fma1, fma2, bf16_1, bf16_2, int8_1, int8_2, amx1, amx2);
  return 0;
}
