// Quantization (ISQ load path) throughput per type: quantize_rows over a [rows, 2048] matrix
// whose source is bf16, as a checkpoint's weights are. "MB/s" counts bf16 input bytes (2 per
// weight) per second, including the bf16 -> f32 widening the loader does before quantizing.
// 1 and 2 threads (ThreadPool over rows).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "quant/registry.h"

namespace insitu {
namespace {

constexpr int64_t kCols = 2048;

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

// args: type, threads
void BM_Quantize(benchmark::State& state) {
  const auto type = static_cast<QuantType>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  // Slow reference quantizers (K-quants, HQQ's optimiser) get fewer rows per call.
  const int64_t rows = quant_info(type).block_size >= 256 || quant_info(type).family ==
                                                                     QuantFamily::kHqq
                           ? 256
                           : 1024;
  std::vector<uint16_t> src(rows * kCols);
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.f, 0.02f);
  for (auto& v : src) v = f32_to_bf16(g(rng));
  std::vector<float> x(src.size());
  std::vector<uint8_t> out(rows * quant_row_bytes(type, kCols));
  ThreadPool& p = pool(threads);
  for (auto _ : state) {
    p.parallel_for(rows, 16, [&](int64_t r0, int64_t r1, int) {
      for (int64_t i = r0 * kCols; i < r1 * kCols; ++i) x[i] = bf16_to_f32(src[i]);
    });
    quantize_rows(type, x.data(), out.data(), rows, kCols, nullptr, &p);
    benchmark::ClobberMemory();
  }
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * src.size() * 2 / 1e6, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(quant_info(type).name) + " t=" + std::to_string(threads));
}

void register_all() {
  for (const auto& info : all_quant_types()) {
    if (quant_is_dense(info.type)) continue;
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("quantize/" + std::string(info.name)).c_str(), BM_Quantize)
          ->Args({static_cast<int>(info.type), threads})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.3);
  }
}

}  // namespace
}  // namespace insitu

int main(int argc, char** argv) {
  insitu::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
