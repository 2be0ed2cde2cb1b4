// The scale searches of quant/ggml/quant_math.cpp, 16 independent instances at once: element i
// of every instance is x[i] (one lane per sub-block). Each lane's result is bit-identical to
// the scalar function on that sub-block. Levels are returned as float vectors (small integers).
#pragma once

#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {

// make_qkx2_quants (qkx3 = false) / make_qkx3_quants (qkx3 = true) with explicit weights w[i];
// n is 16 or 32. L receives levels in [0, nmax]; *the_min the negated min, as the scalar code.
V make_qkx(int n, int nmax, const V* x, const V* w, V* L, V* the_min, float rmin, float rdelta,
           int nstep, bool use_mad, bool qkx3);

// make_qx_quants with rmse_type 1: weights qw[i], or x^2 when qw is null; n is 16 or 32.
// L receives levels offset by nmax (0 for an all-~zero sub-block, as the scalar code).
V make_qx(int n, int nmax, const V* x, const V* qw, V* L);

// make_q3_quants(n, nmax, x, L, do_rmse = true); n is 16 or 32. L offset by nmax.
V make_q3(int n, int nmax, const V* x, V* L);

}  // namespace insitu::fastq::avx512
