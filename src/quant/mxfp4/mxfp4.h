// MXFP4 (OCP Microscaling): 32 E2M1 values sharing one E8M0 exponent.
//
// Block layout is ggml's block_mxfp4 (GGUF type 39), so rows are GGUF-compatible:
// {u8 e; u8 qs[16]}, qs[j] low nibble = element j, high nibble = element j+16; value =
// e2m1(nibble) * 2^(e-127). 4.25 bits/weight. (mistral.rs/GPT-OSS tensors interleave even/odd
// elements within a byte and keep the exponents in a separate tensor; convert with
// from_split_tensors.)
#pragma once

#include <cstdint>

namespace insitu::mxfp4 {

inline constexpr int kBlock = 32;

struct BlockMxfp4 {
  uint8_t e;  // E8M0: 2^(e-127); 255 (NaN) is never written
  uint8_t qs[kBlock / 2];
};
static_assert(sizeof(BlockMxfp4) == 17);

// How the shared exponent is chosen from the block's absolute maximum.
enum class ExponentRule {
  kOcp,        // OCP MX v1.0 / ggml: floor(log2(amax)) - 2, so amax/X in [4, 8)
  kReference,  // mistral.rs: floor(log2(amax / 6)), so amax/X in [6, 12): more saturation at 6
};

// The rule the registry's quantizer uses (chosen by measured error; see docs/quantization.md).
inline constexpr ExponentRule kDefaultRule = ExponentRule::kOcp;

// E2M1 magnitudes of codes 0..7 (code | 8 is the negation).
inline constexpr float kE2M1[8] = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};

// The kernels' code form of a nibble: 12 + 2 * e2m1(nibble), 0..24 with zero point 12, so that
// (code - 12) * pow2_e8m0_half(e) is the value.
inline constexpr uint8_t kE2M1Codes[16] = {12, 13, 14, 15, 16, 18, 20, 24,
                                           12, 11, 10, 9,  8,  6,  4,  0};

// 2^(e - 128) for an E8M0 exponent e, exact (a denormal for e < 2): the scale of a block's
// values taken as 2 * e2m1, the integers 0..12 (the kernels' code form). Always inlined: it is
// called from translation units built for different ISAs, and an out-of-line copy compiled with
// AVX-512 flags must not be what an AVX2 or baseline caller links to.
[[gnu::always_inline]] inline float pow2_e8m0_half(int e) {
  const uint32_t bits = e >= 2 ? static_cast<uint32_t>(e - 1) << 23 : 0x00200000u << e;
  return __builtin_bit_cast(float, bits);
}

// Nearest E2M1 code of v (already divided by the block scale); ties round up in magnitude, as
// the reference's thresholds 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0 do.
uint8_t e2m1_code(float v);

// The biased E8M0 exponent (0..254) of a block whose largest |x| is amax (NaNs ignored).
int shared_exponent(float amax, ExponentRule rule);

void quantize_with_rule(const float* x, void* out, int64_t n, ExponentRule rule);

// Registry row functions (quantize uses kDefaultRule).
void quantize_mxfp4(const float* x, void* out, int64_t n, const float* importance);
void dequantize_mxfp4(const void* in, float* y, int64_t n);

// The mistral.rs/GPT-OSS split layout for one row of n elements: blocks [n/2] with element k
// in the low nibble of byte k/2 when k is even, high when odd; scales [n/32] E8M0.
void from_split_tensors(const uint8_t* blocks, const uint8_t* scales, int64_t n, void* out);
void to_split_tensors(const void* in, int64_t n, uint8_t* blocks, uint8_t* scales);

}  // namespace insitu::mxfp4
