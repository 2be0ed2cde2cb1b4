#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "core/half.h"

namespace insitu {

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 7, 64, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, 8, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

// The guided schedule: chunks start on a grain, shrink as the loop runs out (the first is
// 1 / (2 * threads) of the range, the last ones single grains), and a delayed thread runs fewer.
TEST(ThreadPool, ChunksShrinkToSingleGrainsAndStartOnGrains) {
  ThreadPool pool(2);
  const int64_t n = 4096 + 5, grain = 16, n_grains = (n + grain - 1) / grain;
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int) {
    std::lock_guard<std::mutex> lock(mu);
    chunks.emplace_back(b, e);
  });
  std::sort(chunks.begin(), chunks.end());
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().first, 0);
  EXPECT_EQ(chunks.front().second, n_grains / 4 * grain);  // a quarter of the grains
  EXPECT_EQ(chunks.back().second, n);
  EXPECT_LE(chunks.back().second - chunks.back().first, grain);  // the tail: one (partial) grain
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].first % grain, 0);
    if (i > 0) {
      EXPECT_EQ(chunks[i].first, chunks[i - 1].second);
      EXPECT_LE(chunks[i].second - chunks[i].first, chunks[i - 1].second - chunks[i - 1].first);
    }
  }
  // ~log(n_grains) chunks, not one per grain.
  EXPECT_LT(chunks.size(), static_cast<size_t>(n_grains / 4));
}

// Streaming schedule: each thread's first chunk is its own fixed 85% of an even share, in thread
// order; the rest is guided; together they cover [0, n) exactly once, on grain boundaries.
TEST(ThreadPool, StreamingScheduleStartsWithOneLongChunkPerThread) {
  ThreadPool pool(2);
  const int64_t n = 512 + 3, grain = 16, n_grains = (n + grain - 1) / grain;
  const int64_t first = n_grains * ThreadPool::kStreamingSharePercent / 100 / 2 * grain;
  std::mutex mu;
  std::vector<std::tuple<int64_t, int64_t, int>> chunks;
  std::vector<int> calls_of(2, 0);
  std::vector<std::pair<int64_t, int64_t>> first_of(2, {-1, -1});
  pool.parallel_for(
      n, grain,
      [&](int64_t b, int64_t e, int t) {
        std::lock_guard<std::mutex> lock(mu);
        chunks.emplace_back(b, e, t);
        if (calls_of[t]++ == 0) first_of[t] = {b, e};
      },
      ThreadPool::Schedule::kStreaming);
  ASSERT_EQ(first, 14 * grain);  // 85% of 33 grains (28), halved
  EXPECT_EQ(first_of[0], std::make_pair(int64_t{0}, first));
  EXPECT_EQ(first_of[1], std::make_pair(first, 2 * first));
  std::sort(chunks.begin(), chunks.end());
  int64_t covered = 0;
  for (const auto& [b, e, t] : chunks) {
    EXPECT_EQ(b, covered);
    EXPECT_EQ(b % grain, 0);
    covered = e;
  }
  EXPECT_EQ(covered, n);
}

TEST(ThreadPool, ExceptionPropagates) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run_on_all([](int t) {
    if (t == 1) throw std::runtime_error("boom");
  }),
               std::runtime_error);
}

// The hand-off is spin-then-sleep (thread_pool.h): many back-to-back loops exercise the
// spinning path, gaps longer than the spin time the sleeping path and its wake-up handshake.
// A lost wake-up would hang (ctest's timeout fails it); a lost or repeated chunk changes the sum.
TEST(ThreadPool, BackToBackLoopsAndIdleGapsRunEveryChunkOnce) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    int64_t expected = 0;
    std::atomic<int64_t> total{0};
    for (int iter = 0; iter < 3000; ++iter) {
      const int64_t n = 1 + iter % 37;
      pool.parallel_for(n, 1, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) total += i + 1;
      });
      expected += n * (n + 1) / 2;
      if (iter % 500 == 499) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(total.load(), expected) << threads << " threads";
  }
}

TEST(Half, RoundTripsAllF16Values) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (f != f) continue;  // NaN payloads need not round trip
    EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(Half, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (down).
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);
}

}  // namespace insitu
