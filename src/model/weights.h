// The weights of a loaded model, bound by role from the architecture's tensor table.
// Dense checkpoint tensors are used in place (pointers into the safetensors mmap); quantized
// or converted tensors live in buffers owned by ModelWeights::storage.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"

namespace insitu {

struct Linear {
  WeightMatrix w;
  std::vector<float> bias;  // empty when the layer has none
  bool present() const { return w.data != nullptr; }
};

struct ExpertWeights {
  Linear gate, up, down;
};

struct LayerWeights {
  std::vector<float> attn_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  std::vector<float> q_norm, k_norm;
  Linear q, k, v, qkv, o;
  Linear gate, up, gate_up, down;
  WeightMatrix router;
  std::vector<ExpertWeights> experts;
};

struct ModelWeights {
  WeightMatrix embedding;
  WeightMatrix output;  // may alias embedding (tied)
  std::vector<float> output_norm;
  std::vector<LayerWeights> layers;
  // Owned backing memory for converted/quantized tensors (64-byte aligned).
  std::vector<std::unique_ptr<uint8_t[], void (*)(uint8_t*)>> storage;

  uint8_t* allocate(size_t bytes);
};

}  // namespace insitu
