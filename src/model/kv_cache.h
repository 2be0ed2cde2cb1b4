// Per-sequence key/value cache: f32, [layer][position][kv_heads * head_dim] for K and V.
#pragma once

#include <cstdint>
#include <vector>

namespace insitu {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t n_layers, int64_t capacity, int64_t kv_dim)
      : capacity_(capacity),
        kv_dim_(kv_dim),
        k_(n_layers, std::vector<float>(capacity * kv_dim)),
        v_(n_layers, std::vector<float>(capacity * kv_dim)) {}

  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  float* k(int64_t layer, int64_t pos) { return k_[layer].data() + pos * kv_dim_; }
  float* v(int64_t layer, int64_t pos) { return v_[layer].data() + pos * kv_dim_; }
  size_t bytes() const { return 2 * k_.size() * capacity_ * kv_dim_ * sizeof(float); }

 private:
  int64_t capacity_ = 0;
  int64_t kv_dim_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace insitu
