// Internal interface between kernels/matmul.cpp (the dispatcher) and the per-ISA dense
// matmul kernels in kernels/cpu/{generic,x86/*}. Not part of the public kernels API.
//
// A kernel set is a table of plain function pointers. matmul() picks one set per call from
// active_isa(), runs the optional activation preparation once, then splits output rows over
// the thread pool and calls one RowsFn per thread chunk. The tables are defined in the ISA
// translation units; baseline code may call dense_kernels_<isa>() only after checking that
// the host supports that ISA (the accessor itself is compiled with the ISA's flags).
#pragma once

#include <cstddef>
#include <cstdint>

namespace insitu::kernels {

// Dense weight types, numbered as QuantType::kF32/kF16/kBF16 so a QuantType indexes tables.
inline constexpr int kNumDenseTypes = 3;

// Decode-sized batches (m <= kGemvMaxM) stream each weight row once (GEMV kernels);
// larger batches use cache-blocked GEMM kernels.
inline constexpr int64_t kGemvMaxM = 4;

struct DenseProblem {
  int type = 0;                  // 0 f32, 1 f16, 2 bf16 (QuantType value)
  const uint8_t* w = nullptr;    // row-major [rows, cols]
  size_t row_bytes = 0;          // bytes per weight row
  int64_t rows = 0;              // output features; also the row stride of y
  int64_t cols = 0;              // input features (K)
  const float* x = nullptr;      // [m, cols], row-major
  int64_t m = 0;
  float* y = nullptr;            // [m, rows], row-major
  const void* xprep = nullptr;   // output of DenseKernelSet::prepare_x, when the set has one
};

// Computes y[i, r] for every i < m and r in [r0, r1). `scratch` is this thread's private
// buffer of at least gemm_scratch_bytes(type, cols, m) bytes, 64-byte aligned (GEMM only).
using RowsFn = void (*)(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch);

struct DenseKernelSet {
  const char* name;
  RowsFn gemv[kNumDenseTypes];
  RowsFn gemm[kNumDenseTypes];
  // Thread chunks of GEMM rows are multiples of this (the kernel's register/tile block).
  int64_t gemm_row_grain;
  size_t (*gemm_scratch_bytes)(int type, int64_t cols, int64_t m);
  // Optional: activations are converted once per call into a shared buffer of
  // prep_bytes(m, cols) bytes (64-byte aligned); prepare_x fills activation rows [i0, i1).
  size_t (*prep_bytes)(int64_t m, int64_t cols);
  void (*prepare_x)(const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1, void* out);
};

const DenseKernelSet& dense_kernels_scalar();
const DenseKernelSet& dense_kernels_avx2();
const DenseKernelSet& dense_kernels_avx512();
const DenseKernelSet& dense_kernels_amx();

}  // namespace insitu::kernels
