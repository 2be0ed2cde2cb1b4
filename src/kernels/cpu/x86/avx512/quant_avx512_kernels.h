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

// Prefill path without AMX: with round_x the BF16 kernel (quant_gemm_bf16_avx512.cpp,
// OperandRounding::kBf16), else weight rows decoded to f32 panels and an FMA microkernel.
void quant_gemm(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);
size_t quant_gemm_scratch_bytes(QuantType type, int64_t cols, int64_t m);
size_t quant_gemm_prep_bytes(int64_t m, int64_t cols);
void quant_gemm_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out);
OperandRounding quant_gemm_fast_rounding(QuantType type);
// The BF16 kernel's parts (activations as bf16 A tiles, bf16_tiles_avx512.h).
void quant_gemm_bf16(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);
size_t quant_gemm_bf16_scratch_bytes();
size_t quant_gemm_bf16_prep_bytes(int64_t m, int64_t cols);
void quant_gemm_bf16_prepare_x(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
                               void* out);
// The BF16 kernel's microkernel covers 48 weight rows; chunks of 48 leave a partial one only at
// a matrix's end. Both kernels read the row-group layout (chunks start at multiples of 16).
inline constexpr int64_t kQuantGemmRowGrain = 48;

}  // namespace insitu::kernels::avx512
