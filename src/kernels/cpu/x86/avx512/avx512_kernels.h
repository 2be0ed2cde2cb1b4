// Entry points of the AVX-512 dense kernels, shared with the AMX kernel set (which reuses the
// AVX-512 GEMV for decode). Call only when active_isa() >= kAvx512.
#pragma once

#include "kernels/cpu/dense_kernels.h"

namespace insitu::kernels::avx512 {

void gemv_f32(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch);
void gemv_f16(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch);
void gemv_bf16(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch);

}  // namespace insitu::kernels::avx512
