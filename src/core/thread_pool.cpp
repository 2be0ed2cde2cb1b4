#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <exception>

namespace insitu {
namespace {

// How long a worker polls for the next task, and the caller for completion, before blocking.
// Long enough to bridge the serial code between two parallel loops of a forward pass (norms,
// sampling), short enough that an idle engine stops burning a core almost at once.
constexpr auto kSpinTime = std::chrono::microseconds(2000);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `done` until it returns true or kSpinTime has passed; true if it became true. After the
// first kPureSpin the poll also yields the core: when threads outnumber free cores (more
// threads than cores, or other processes), the thread we wait for may be runnable but not
// running, and a pure spin would hold its core for the whole kSpinTime.
constexpr auto kPureSpin = std::chrono::microseconds(50);
template <class Pred>
bool spin_until(Pred done) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= kSpinTime) return done();
    if (waited >= kPureSpin) std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0)
    n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

// The sleep hand-shakes below are the store-then-load (Dekker) pattern on seq_cst atomics: a
// worker increments sleepers_ and then re-checks generation_ under the mutex; run_on_all bumps
// generation_ and then reads sleepers_. At least one side sees the other's store, so a worker
// never sleeps through a task. The same holds for caller_waiting_ and pending_.
void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    const auto started = [&] { return stop_.load() || generation_.load() != seen; };
    if (!spin_until(started)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      start_cv_.wait(lock, started);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    (*task_)(index);
    if (pending_.fetch_sub(1) == 1 && caller_waiting_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (n_threads_ == 1) {
    fn(0);
    return;
  }
  // Exceptions from workers are captured and rethrown on the caller.
  std::exception_ptr error;
  std::mutex error_mutex;
  std::function<void(int)> guarded = [&](int i) {
    try {
      fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  task_ = &guarded;
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    // Taking the mutex orders this notify after any worker's predicate check.
    { std::lock_guard<std::mutex> lock(mutex_); }
    start_cv_.notify_all();
  }
  guarded(0);
  const auto finished = [&] { return pending_.load() == 0; };
  if (!spin_until(finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_waiting_.store(true);
    done_cv_.wait(lock, finished);
    caller_waiting_.store(false);
  }
  task_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn,
                              Schedule schedule) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t n_grains = (n + grain - 1) / grain;
  if (n_threads_ <= 1 || n_grains <= 1) {
    fn(0, n, 0);
    return;
  }
  // Guided schedule: each claim takes 1 / (2 * threads) of what is left (whole grains, at least
  // one), so the first chunks are long contiguous runs and the last ones single grains: the
  // threads finish within about a grain of each other.
  // kStreaming: thread t's own first chunk is grains [t * first, (t + 1) * first).
  const int64_t first =
      schedule == Schedule::kStreaming ? n_grains * kStreamingSharePercent / 100 / n_threads_ : 0;
  std::atomic<int64_t> next{first * n_threads_};
  const int64_t divisor = 2 * int64_t{n_threads_};
  run_on_all([&](int t) {
    if (first > 0) fn(t * first * grain, (t + 1) * first * grain, t);
    int64_t begin = next.load(std::memory_order_relaxed);
    for (;;) {
      if (begin >= n_grains) return;
      const int64_t take = std::max<int64_t>(1, (n_grains - begin) / divisor);
      if (!next.compare_exchange_weak(begin, begin + take, std::memory_order_relaxed)) continue;
      fn(begin * grain, std::min(n, (begin + take) * grain), t);
      begin = next.load(std::memory_order_relaxed);
    }
  });
}

}  // namespace insitu
