// Matrix products with quantized (non-dense) registry weight types: the per-ISA kernels of
// kernels/cpu/quant_kernels.h behind one dispatcher. matmul() (matmul.h) routes every
// quantized type here; call matmul() rather than this directly.
#pragma once

#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/matmul_precision.h"

namespace insitu {

// y[i, r] = sum_c x[i, c] * W[r, c] for a quantized W (quant_is_dense(w.type) is false).
// Error vs matmul_reference: f32-grade (relative L2 <= 1e-5) on every ISA path under
// MatmulPrecision::kExact; under kAuto/kFast, f32-grade against the operands rounded as
// matmul_quantized_rounding(w.type, m) says.
void matmul_quantized(const WeightMatrix& w, const float* x, int64_t m, float* y, ThreadPool& pool);

// Several matrices that read the same x, as one pass over their rows (matmul_group, matmul.h):
// the activations are converted once, and the threads go from one matrix to the next without
// waiting for each other. y_i as matmul_quantized(*ws[i], x, m, ys[i]) computes it, bit for bit.
// Grouping needs 2-4 quantized matrices of one type, layout and cols (and a path that runs
// them directly); matmul_quantized_can_group says whether they qualify.
bool matmul_quantized_can_group(std::span<const WeightMatrix* const> ws, int64_t m);
void matmul_quantized_group(std::span<const WeightMatrix* const> ws, const float* x, int64_t m,
                            std::span<float* const> ys, ThreadPool& pool);

// The operand rounding matmul_quantized applies to `w` (its type and layout) at batch size m,
// at the current active_isa() and matmul_precision().
OperandRounding matmul_quantized_rounding(const WeightMatrix& w, int64_t m);
// The same for a matrix of `type` in the row format (WeightLayout::kRows).
OperandRounding matmul_quantized_rounding(QuantType type, int64_t m);

// Whether the current active_isa()'s decode kernels have a row-group path for `type` with
// `cols` columns (see preferred_weight_layout, matmul.h).
bool matmul_quantized_has_row_groups(QuantType type, int64_t cols);

// Name of the kernel matmul_quantized would use for batch size m at the current active_isa()
// ("scalar", "avx2-dequantize-tile", "avx512-vnni", "avx512", "amx").
const char* matmul_quantized_kernel_name(int64_t m);

}  // namespace insitu
