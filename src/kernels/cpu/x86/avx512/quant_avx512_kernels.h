// Entry points of the AVX-512 quantized kernels, shared with the AMX kernel set (which reuses
// the AVX-512 decode path: GEMV is memory bound and AMX would not help). Call only when
// active_isa() >= kAvx512.
#pragma once

#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels::avx512 {

// Decode path (m <= kQuantGemvMaxM).
inline constexpr int64_t kQuantGemvMaxM = 4;
void quant_gemv(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);
size_t quant_gemv_scratch_bytes(QuantType type, int64_t cols, int64_t m);
size_t quant_gemv_prep_bytes(int64_t m, int64_t cols);
void quant_gemv_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out);
OperandRounding quant_gemv_fast_rounding(QuantType type);

// Decode path for weights in the row-group layout (quant_gemv_groups_avx512.cpp).
bool quant_gemv_groups_supported(QuantType type, int64_t cols);
void quant_gemv_groups(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);
size_t quant_gemv_groups_scratch_bytes(QuantType type, int64_t cols, int64_t m);
size_t quant_gemv_groups_prep_bytes(int64_t m, int64_t cols);
void quant_gemv_groups_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols,
                                 int64_t i0, int64_t i1, bool round_x, void* out);
OperandRounding quant_gemv_groups_fast_rounding(QuantType type);
// The kernel-set entries of this path, shared by the AVX-512 and AMX sets. Thread chunks of 64
// rows: the kernel runs groups in quads (four DRAM streams); with 32-row chunks the guided end
// of each thread's share ran as pairs (two streams).
inline constexpr QuantPath kQuantGemvGroupsPath = {quant_gemv_groups,
                                                   64,
                                                   quant_gemv_groups_scratch_bytes,
                                                   quant_gemv_groups_prep_bytes,
                                                   quant_gemv_groups_prepare_x,
                                                   quant_gemv_groups_fast_rounding,
                                                   /*row_groups=*/true};

// Row-group matrices back to the row format (row_groups_avx512.cpp): the same bytes as
// insitu::unpack_row_groups (quant/layout/row_groups.h), transposed in registers.
void unpack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols);
// `ncols` consecutive block columns of one group (the first at `columns`) to its 16 rows of
// `ncols` blocks each in the row format, row r at dst + r * dst_stride.
void unpack_group_columns(QuantType t, const uint8_t* columns, int64_t ncols, uint8_t* dst,
                          size_t dst_stride);

// Prefill path without AMX (quant_gemm_avx512.cpp): staged weight tiles against activation
// tiles, bf16 (vdpbf16ps) with round_x (OperandRounding::kBf16), else f32 FMA. Both read the
// row-group layout; chunks of 48 rows (the microkernel's) leave a partial one only at a
// matrix's end (chunks start at multiples of 16).
void quant_gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);
size_t quant_gemm_scratch_bytes(QuantType type, int64_t cols, int64_t m);
size_t quant_gemm_prep_bytes(int64_t m, int64_t cols);
void quant_gemm_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out);
OperandRounding quant_gemm_fast_rounding(QuantType type);
inline constexpr int64_t kQuantGemmRowGrain = 48;

}  // namespace insitu::kernels::avx512
