// Compute backends a weight type can run on (the registry's `backends` column) and which of them
// this build has. Names are the `--device` values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace insitu {

enum class Backend : uint8_t { kCpu, kCuda, kMetal, kCount };

// A set of backends, one bit per Backend.
using BackendSet = uint8_t;

constexpr BackendSet backend_bit(Backend b) {
  return static_cast<BackendSet>(1u << static_cast<unsigned>(b));
}
constexpr BackendSet kOnCpu = backend_bit(Backend::kCpu);
constexpr BackendSet kOnCuda = backend_bit(Backend::kCuda);
constexpr BackendSet kOnMetal = backend_bit(Backend::kMetal);
constexpr BackendSet kOnAll = kOnCpu | kOnCuda | kOnMetal;

// "cpu", "cuda", "metal".
constexpr std::string_view backend_name(Backend b) {
  switch (b) {
    case Backend::kCpu: return "cpu";
    case Backend::kCuda: return "cuda";
    case Backend::kMetal: return "metal";
    default: return "?";
  }
}
// "CPU", "CUDA", "Metal", for prose.
constexpr std::string_view backend_display_name(Backend b) {
  switch (b) {
    case Backend::kCpu: return "CPU";
    case Backend::kCuda: return "CUDA";
    case Backend::kMetal: return "Metal";
    default: return "?";
  }
}
// Exact lower-case names only; nullopt otherwise.
constexpr std::optional<Backend> parse_backend(std::string_view name) {
  for (auto b : {Backend::kCpu, Backend::kCuda, Backend::kMetal})
    if (backend_name(b) == name) return b;
  return std::nullopt;
}

// Whether this build has kernels for `b`. insitu's kernels room is CPU-only today; a GPU
// backend turns its entry on when it lands.
constexpr bool backend_built(Backend b) {
  return b == Backend::kCpu;
}

}  // namespace insitu
