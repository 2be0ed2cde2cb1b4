// Helpers shared by the quant tests: golden file loading and error statistics.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "test_paths.h"

namespace insitu::test {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline std::vector<float> read_f32(const std::string& path) {
  const auto b = read_bytes(path);
  std::vector<float> v(b.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

inline std::string golden_dir() { return shared_dir() + "/golden/ggml"; }

inline std::vector<float> gaussian(size_t n, float sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct ErrorStats {
  double rmse = 0;
  double max_abs = 0;
};

inline ErrorStats error_stats(const std::vector<float>& ref, const std::vector<float>& got) {
  ErrorStats s;
  double sum = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    sum += d * d;
    s.max_abs = std::max(s.max_abs, std::fabs(d));
  }
  s.rmse = std::sqrt(sum / static_cast<double>(ref.size()));
  return s;
}

}  // namespace insitu::test
