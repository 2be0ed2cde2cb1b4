// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads,
// quantization blocks). The calling thread takes part as worker 0, so a pool of N threads
// spawns N-1. Not reentrant: parallel_for must not be called from inside a task.
//
// Hand-off is spin-then-sleep: a decode step issues ~120 parallel loops of 30-500 us each, and
// waking a worker blocked on a condition variable costs tens of microseconds (futex wake plus
// scheduling), a large share of a small GEMV. So workers poll for the next task for kSpinTime
// after finishing one (the caller likewise polls for completion) and only then block; an idle
// pool sleeps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace insitu {

class ThreadPool {
 public:
  // n_threads <= 0 means one per hardware thread.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index) once on every thread of the pool and waits for all.
  void run_on_all(const std::function<void(int)>& fn);

  // Splits [0, n) into contiguous chunks, each a multiple of `grain` (except the last), and calls
  // fn(begin, end, thread_index) for each. Threads claim chunks in order from a shared counter,
  // each taking 1 / (2 * size()) of what is left: long contiguous runs first (one stream per
  // thread for most of a decode matmul), single grains at the end, so the threads finish within
  // about a grain of each other, and a thread that the OS delays (or that starts late) does
  // less of the loop instead of holding up the others. Waits for completion.
  //
  // Schedule::kStreaming (memory-bound loops such as decode's matrix-vector products): thread t
  // first takes its own fixed chunk, kStreamingSharePercent of an even share, at t's place in
  // [0, n); the rest of the loop then goes guided as above (a thread that starts late still does
  // its fixed chunk: only the last 15% adapts). A decode matmul's chunk is cut into DRAM
  // streams, and each new chunk restarts them: the guided schedule alone made 6-8 chunks per
  // thread of a 512-row matrix, and the threads streamed at 8-11 GB/s each where one long chunk
  // streams at 14-16 (docs/performance.md, "Session 7").
  enum class Schedule { kGuided, kStreaming };
  static constexpr int64_t kStreamingSharePercent = 85;
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn,
                    Schedule schedule = Schedule::kGuided);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // Published by run_on_all before generation_ is bumped; read by workers after they see it.
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};   // workers still running the current task
  std::atomic<int> sleepers_{0};  // workers blocked (or about to block) on start_cv_
  std::atomic<bool> caller_waiting_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace insitu
