// Quantized matmul throughput on Llama-3.2-1B shapes (rows x cols = out x in features).
// GEMV (m = 1, decode) is memory bound: "GB/s" counts the quantized weight bytes streamed per
// second (compare with the read bandwidth of bench/roofline). GEMM (m = 512, prefill) is
// compute bound: "GOP/s" counts 2 * m * rows * cols per second.
// Decode streams weights from DRAM as a model does: several copies of the matrix (>= 640 MB in
// all, beyond the last-level cache) are used in turn; INSITU_BENCH_HOT=1 keeps one copy, so a
// matrix that fits in L2 measures the kernel's compute ceiling instead (docs/performance.md). The
// kernel is whatever active_isa() selects; cap it with INSITU_FORCE_ISA=avx512 etc. Filter types
// with --benchmark_filter.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/matmul_quant.h"
#include "quant/layout/row_groups.h"

namespace insitu {
namespace {

constexpr int64_t kShapes[][2] = {
    {2048, 2048},    // q_proj / o_proj
    {512, 2048},     // k_proj / v_proj
    {8192, 2048},    // gate_proj / up_proj
    {2048, 8192},    // down_proj
    {128256, 2048},  // lm_head
    // Not a model shape: long rows that fit in L2 with room to spare (<= 1.1 MB), for
    // the GEMV compute ceiling with INSITU_BENCH_HOT=1 (1 thread; decode only).
    {128, 8192},
};
// The types users run (every shape) and the rest (gate/up and down shapes only).
constexpr QuantType kMainTypes[] = {QuantType::kQ4K,  QuantType::kQ6K, QuantType::kQ8_0,
                                    QuantType::kQ4_0, QuantType::kQ5K, QuantType::kQ3K,
                                    QuantType::kQ2K};
constexpr size_t kDecodeWorkingSet = size_t{640} << 20;

struct Weights {
  std::vector<uint8_t> bytes;  // 64 bytes more than used: data() is 64-byte aligned, as loaded
  uint8_t* data() const {      // weights are (a vector's own alignment is only 16)
    const auto p = reinterpret_cast<uintptr_t>(bytes.data());
    return const_cast<uint8_t*>(bytes.data()) + ((64 - p % 64) % 64);
  }
  size_t matrix_bytes = 0;
  int copies = 1;
  WeightLayout layout = WeightLayout::kRows;  // as loading would store it on this host
};

// A block of 64 distinct quantized rows (registry quantizer, Gaussian weights) tiled over the
// matrix and its copies: timing depends on bytes, not on the values.
const Weights& weights(QuantType t, int64_t rows, int64_t cols, bool decode) {
  static std::map<std::tuple<int, int64_t, int64_t, bool>, Weights> cache;
  const auto key = std::make_tuple(static_cast<int>(t), rows, cols, decode);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  cache.clear();  // keep one matrix resident at a time
  constexpr int64_t kDistinct = 64;
  std::vector<float> src(kDistinct * cols);
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0.f, 0.02f);
  for (auto& v : src) v = g(rng);
  const size_t row_bytes = quant_row_bytes(t, cols);
  std::vector<uint8_t> block(kDistinct * row_bytes);
  quantize_rows(t, src.data(), block.data(), kDistinct, cols, nullptr, nullptr);
  Weights w;
  // Every shape's row count is a multiple of 64, so tiled groups of 64 rows are whole groups.
  w.layout = preferred_weight_layout(t, rows, cols);
  if (w.layout == WeightLayout::kRowGroups) {
    std::vector<uint8_t> grouped(block.size());
    pack_row_groups(t, block.data(), grouped.data(), kDistinct, cols);
    block = std::move(grouped);
  }
  w.matrix_bytes = rows * row_bytes;
  static const bool hot = std::getenv("INSITU_BENCH_HOT") != nullptr;
  w.copies = decode && !hot
                 ? static_cast<int>((kDecodeWorkingSet + w.matrix_bytes - 1) / w.matrix_bytes)
                 : 1;
  const size_t total = w.matrix_bytes * w.copies;
  w.bytes.resize(total + 64);
  for (size_t off = 0; off < total; off += block.size())
    std::memcpy(w.data() + off, block.data(), std::min(block.size(), total - off));
  return cache.emplace(key, std::move(w)).first->second;
}

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

// args: type, shape index, m, threads
void BM_QuantMatmul(benchmark::State& state) {
  const auto type = static_cast<QuantType>(state.range(0));
  const int64_t rows = kShapes[state.range(1)][0], cols = kShapes[state.range(1)][1];
  const int64_t m = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const Weights& w = weights(type, rows, cols, m <= 4);
  std::vector<float> x(m * cols), y(m * rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0.f, 1.f);
  for (auto& v : x) v = g(rng);
  ThreadPool& p = pool(threads);
  int copy = 0;
  auto call = [&] {
    const WeightMatrix wm{type, rows, cols, w.data() + copy * w.matrix_bytes, w.layout};
    matmul(wm, x.data(), m, y.data(), p);
    copy = (copy + 1) % w.copies;
  };
  call();  // warm scratch buffers
  for (auto _ : state) {
    call();
    benchmark::ClobberMemory();
  }
  const double calls = static_cast<double>(state.iterations());
  state.counters["GB/s"] =
      benchmark::Counter(calls * w.matrix_bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] =
      benchmark::Counter(calls * 2.0 * m * rows * cols / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(quant_info(type).name) + " " + std::to_string(rows) + "x" +
                 std::to_string(cols) + " m=" + std::to_string(m) +
                 " t=" + std::to_string(threads) + " " + matmul_quantized_kernel_name(m) +
                 (w.layout == WeightLayout::kRowGroups ? " row-groups" : ""));
}

void add(const char* name, QuantType t, int shape, int64_t m, int threads) {
  benchmark::RegisterBenchmark(name, BM_QuantMatmul)
      ->Args({static_cast<int>(t), shape, m, threads})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(0.3);
}

void register_all() {
  for (const auto& info : all_quant_types()) {
    if (quant_is_dense(info.type)) continue;
    const bool main =
        std::find(std::begin(kMainTypes), std::end(kMainTypes), info.type) != std::end(kMainTypes);
    const std::string gemv = "gemv/" + std::string(info.name);
    const std::string gemm = "gemm/" + std::string(info.name);
    for (int s = 0; s < 5; ++s) {
      if (!main && s != 2 && s != 3) continue;
      for (int threads : {1, 2}) {
        add(gemv.c_str(), info.type, s, 1, threads);
        if (s < 4) add(gemm.c_str(), info.type, s, 512, threads);  // no lm_head over a prompt
      }
    }
    add(gemv.c_str(), info.type, 5, 1, 1);
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
