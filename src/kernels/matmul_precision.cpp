#include "kernels/matmul_precision.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace insitu {
namespace {

// INSITU_MATMUL_PRECISION=auto|exact|fast sets the starting value (A/B benchmarks); an invalid
// value is reported once and ignored.
int initial_precision() {
  const char* env = std::getenv("INSITU_MATMUL_PRECISION");
  if (!env) return static_cast<int>(MatmulPrecision::kAuto);
  if (auto p = parse_matmul_precision(env)) return static_cast<int>(*p);
  std::fprintf(
      stderr,
      "insitu: warning: INSITU_MATMUL_PRECISION=%s is not auto, exact or fast; using auto\n", env);
  return static_cast<int>(MatmulPrecision::kAuto);
}

std::atomic<int> g_precision{initial_precision()};

}  // namespace

bool auto_rounds_activations(QuantType type) {
  if (type == QuantType::kFp8 || type == QuantType::kF8Q8) return true;
  return quant_info(type).bits_per_weight() < kAutoRoundMaxBits;
}

MatmulPrecision matmul_precision() {
  return static_cast<MatmulPrecision>(g_precision.load(std::memory_order_relaxed));
}

MatmulPrecision set_matmul_precision(MatmulPrecision p) {
  return static_cast<MatmulPrecision>(g_precision.exchange(static_cast<int>(p)));
}

std::string_view matmul_precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::kAuto: return "auto";
    case MatmulPrecision::kExact: return "exact";
    case MatmulPrecision::kFast: return "fast";
  }
  return "?";
}

std::optional<MatmulPrecision> parse_matmul_precision(std::string_view name) {
  for (MatmulPrecision p :
       {MatmulPrecision::kAuto, MatmulPrecision::kExact, MatmulPrecision::kFast})
    if (name == matmul_precision_name(p)) return p;
  return std::nullopt;
}

}  // namespace insitu
