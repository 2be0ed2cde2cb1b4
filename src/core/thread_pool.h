// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads,
// quantization blocks). The calling thread takes part as worker 0, so a pool of N threads
// spawns N-1. Not reentrant: parallel_for must not be called from inside a task.
#pragma once

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

  // Splits [0, n) into contiguous chunks, at most one per thread, each a multiple of `grain`
  // (except the last), and calls fn(begin, end, thread_index). Waits for completion.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace insitu
