// Dense matmul throughput on Llama-3.2-1B shapes (rows x cols = out x in features).
// GEMV (m = 1, decode) reports GB/s of weights streamed; GEMM (m = 512, prefill) reports
// GFLOP/s (2 * m * rows * cols per call). Both counters are reported for every case.
// The kernel is whatever active_isa() selects; cap it with INSITU_FORCE_ISA=avx512 etc.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/half.h"
#include "kernels/matmul.h"

namespace insitu {
namespace {

constexpr int64_t kShapes[][2] = {
    {2048, 2048},    // q_proj / o_proj
    {512, 2048},     // k_proj / v_proj
    {8192, 2048},    // gate_proj / up_proj
    {2048, 8192},    // down_proj
    {128256, 2048},  // lm_head
};
constexpr QuantType kTypes[] = {QuantType::kF32, QuantType::kF16, QuantType::kBF16};

// Weights are generated once per (type, shape) and kept: the lm_head alone is 0.5-1 GB.
const std::vector<uint8_t>& weights(QuantType t, int64_t rows, int64_t cols) {
  static std::map<std::tuple<int, int64_t, int64_t>, std::vector<uint8_t>> cache;
  auto key = std::make_tuple(static_cast<int>(t), rows, cols);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  cache.clear();  // keep one matrix resident at a time
  std::vector<uint8_t> bytes(rows * quant_row_bytes(t, cols));
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-0.05f, 0.05f);
  const size_t n = static_cast<size_t>(rows) * cols;
  if (t == QuantType::kF32) {
    auto* f = reinterpret_cast<float*>(bytes.data());
    for (size_t i = 0; i < n; ++i) f[i] = u(rng);
  } else {
    auto* h = reinterpret_cast<uint16_t*>(bytes.data());
    for (size_t i = 0; i < n; ++i)
      h[i] = t == QuantType::kF16 ? f32_to_f16(u(rng)) : f32_to_bf16(u(rng));
  }
  return cache.emplace(key, std::move(bytes)).first->second;
}

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

// args: type, shape index, m, threads
void BM_Matmul(benchmark::State& state) {
  const auto type = static_cast<QuantType>(state.range(0));
  const int64_t rows = kShapes[state.range(1)][0], cols = kShapes[state.range(1)][1];
  const int64_t m = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto& w = weights(type, rows, cols);
  const WeightMatrix wm{type, rows, cols, w.data()};
  std::vector<float> x(m * cols), y(m * rows);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& v : x) v = u(rng);
  ThreadPool& p = pool(threads);
  matmul(wm, x.data(), m, y.data(), p);  // warm scratch buffers
  for (auto _ : state) {
    matmul(wm, x.data(), m, y.data(), p);
    benchmark::ClobberMemory();
  }
  const double calls = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(calls * w.size() / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(calls * 2.0 * m * rows * cols / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(quant_info(type).name) + " " + std::to_string(rows) + "x" +
                 std::to_string(cols) + " m=" + std::to_string(m) + " t=" +
                 std::to_string(threads) + " " + matmul_kernel_name(type, m));
}

void register_all() {
  for (QuantType t : kTypes)
    for (int s = 0; s < 5; ++s)
      for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark("gemv", BM_Matmul)
            ->Args({static_cast<int>(t), s, 1, threads})
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.5);
        if (s < 4)  // prefill never runs the lm_head over the whole prompt
          benchmark::RegisterBenchmark("gemm", BM_Matmul)
              ->Args({static_cast<int>(t), s, 512, threads})
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond)
              ->MinTime(0.5);
      }
}

}  // namespace
}  // namespace insitu

int main(int argc, char** argv) {
  insitu::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("isa", std::string(insitu::isa_name(insitu::active_isa())));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
