// Scale-search helpers of ggml's quantizers, re-implemented for bit-exact output.
//
// Bit-exactness rules for everything here: plain f32 arithmetic in the same evaluation order as
// ggml (no FMA contraction: this room is built for the x86-64 baseline, which has none), the
// same iteration counts and constants, and nearest_int()'s round-half-to-even.
#pragma once

#include <cstdint>
#include <cstring>

namespace insitu::ggml {

// Round to nearest, ties to even, for |v| <= 2^22: adding 1.5 * 2^23 leaves the integer in the
// low mantissa bits (the FPU does the rounding).
inline int nearest_int(float v) {
  const float shifted = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// Blocks whose largest magnitude is below this are stored as all zeros.
inline constexpr float kGroupMaxEps = 1e-15f;

// Symmetric search: levels L[i] in [0, 2*nmax) (stored offset by nmax) and the returned scale
// minimise sum w*(x - scale*(L-nmax))^2 over 19 candidate inverse scales around -nmax/max.
// Weights: qw if given, else by rmse_type (1: x^2, 2: 1, 3: |x|, other: sqrt|x|); a negative
// rmse_type returns after the first candidate.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);

// q3_K's symmetric search with x^2 weights and coordinate-descent refinement.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);

// Asymmetric (scale, min) search with levels in [0, nmax]; *the_min receives -min (>= 0).
// make_qkx2 needs weights; make_qkx3 falls back to x^2 weights when weights is null.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);
float make_qkx3_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);

// Positive-only search for the super-block scale of sub-block scales/mins, weighted.
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

}  // namespace insitu::ggml
