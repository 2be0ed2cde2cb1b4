// A growable, 64-byte aligned buffer with one owner; its contents are not kept when it grows,
// and new memory is not zeroed. Kernel scratch is private to a pool thread; keeping it in a
// thread_local and reusing it avoids page-faulting fresh memory on every matmul call (the dense
// and quantized matmul dispatchers, prefill attention). The model's forward pass keeps its
// activation buffers in such buffers too (model/forward_workspace.h).
#pragma once

#include <cstddef>
#include <new>

namespace insitu::kernels {

class ThreadScratch {
 public:
  ThreadScratch() = default;
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;
  ~ThreadScratch() { release(); }
  void* get(size_t bytes) {
    if (bytes > size_) {
      release();
      ptr_ = ::operator new (bytes, std::align_val_t{64});
      size_ = bytes;
    }
    return ptr_;
  }

 private:
  void release() {
    if (ptr_) ::operator delete (ptr_, std::align_val_t{64});
    ptr_ = nullptr;
    size_ = 0;
  }
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace insitu::kernels
