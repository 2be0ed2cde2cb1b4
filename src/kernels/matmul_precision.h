// How much activation rounding the matmul kernels may use (docs/quantization.md, "Matmul
// precision").
//
//  * kExact: every path computes y against the exact dequantized weights and the f32
//    activations with f32-grade error (relative L2 <= 1e-5).
//  * kFast: quantized-weight kernels may round the activations (never the integer weight codes)
//    where that is faster: the AVX-512 VNNI decode kernel rounds each 4-element lane of x to
//    8 bits with its own scale (finer than ggml's 32- or 256-element q8 blocks; for q2_K and q3_K
//    one scale per 16-element group, so that a 256-block sums in integers), the prefill kernels
//    multiply bf16-rounded weights by bf16-rounded activations (AMX: one tile product instead
//    of three; AVX-512 without AMX: vdpbf16ps instead of f32 FMA). The result is then the exact
//    product of what was rounded, so tests check it against a reference fed the same rounded
//    operands (matmul_quantized_rounding). The AVX2 decode kernel rounds like the AVX-512 one for
//    q4_0 and q2_K..q6_K (integer dot instead of dequantizing). Paths that gain nothing (scalar,
//    the other AVX2 paths, fp8 decode) stay exact.
//  * kAuto (default): kFast where the type's own quantization error dwarfs the rounding
//    (auto_rounds_activations: types below kAutoRoundMaxBits bits per weight, and fp8 and f8q8),
//    kExact for the rest (q8_0, q8_1, q8k, afq8, hqq8, f32/f16/bf16). The rounding adds ~3e-3
//    relative L2 to a model's logits whatever the type; that is <= 20% of the error a <= 6.6-bit
//    quantization causes itself (so <= 2% more total error, the two adding in quadrature), but
//    40% of an 8-bit integer one's (tests/model/isq_test.cpp measures both for every type).
// The setting is process-wide, like the ISA cap (core/cpu_features.h).
#pragma once

#include <optional>
#include <string_view>

#include "quant/registry.h"

namespace insitu {

// What a kernel rounds before its (otherwise exact, f32-grade) product.
enum class OperandRounding {
  kNone,
  // Activations: each aligned 4-element lane gets s = max|x| * (1 / 127.f) (f32), and x
  // becomes nearbyint(x / s) * s (0 when s is 0). Weights exact.
  kActivationLane8,
  // Activations: as kActivationLane8, but the 16 elements {128b + 32g + 4l + i : g, i < 4} of
  // each 128-element block b and lane l < 8 share one s = max|x| * (1 / 127.f). The four lanes
  // a group joins are the ones q2_K and q3_K pack into one byte (one code per 32-element
  // plane), so the decode kernel can sum a whole 256-element block in integers.
  kActivationGroup16Stride32,
  // Activations: each aligned 16-element group gets s = max|x| * (1 / 127.f) (f32) and x
  // becomes nearbyint(x / s) * s. The row-group decode kernels (weights in
  // WeightLayout::kRowGroups): one int8 digit per activation, one scale per weight sub-block.
  kActivationGroup16Int8,
  // Weights (dequantized to f32) and activations each rounded to bf16, nearest even.
  kBf16,
  // Activations rounded to bf16, nearest even; weights exact (the fp8 decode kernel: e4m3 codes
  // are exact in bf16 and the block scale is applied in f32).
  kActivationBf16,
};

enum class MatmulPrecision { kAuto, kExact, kFast };
inline constexpr double kAutoRoundMaxBits = 7.0;

// Whether kAuto lets the kernels round the activations they multiply `type` with: below
// kAutoRoundMaxBits bits per weight, and for fp8 and f8q8, whose e4m3 values (fp8) or block
// scales (f8q8) carry 3 mantissa bits: on the demo model their quantization error (3.4e-2 and
// 3.7e-2 relative L2 on the logits) is q5k's (3.4e-2), not the 7e-3 of the 8-bit integer types,
// so the rounding stays at 8-11% of it.
bool auto_rounds_activations(QuantType type);

MatmulPrecision matmul_precision();
// Returns the previous setting.
// INSITU_MATMUL_PRECISION=auto|exact|fast in the environment sets the starting value.
MatmulPrecision set_matmul_precision(MatmulPrecision p);

std::string_view matmul_precision_name(MatmulPrecision p);
// "auto", "exact", "fast" (case-sensitive); nullopt otherwise.
std::optional<MatmulPrecision> parse_matmul_precision(std::string_view name);

// Restores the previous setting on scope exit (tests, benchmarks).
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision p) : prev_(set_matmul_precision(p)) {}
  ~MatmulPrecisionScope() { set_matmul_precision(prev_); }
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  MatmulPrecision prev_;
};

}  // namespace insitu
