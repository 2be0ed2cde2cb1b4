// Internal interface between kernels/matmul_quant.cpp (the dispatcher for quantized weight
// types) and the per-ISA quantized matmul kernels in kernels/cpu/{generic,x86/*}. Not part of
// the public kernels API.
//
// Like the dense kernels (dense_kernels.h), a kernel set is a table of plain function pointers
// chosen once per call from active_isa(). A set has a decode path (GEMV, m <= gemv_max_m:
// every weight row is streamed once) and a prefill path (GEMM), each with an optional
// activation preparation run once per call into a shared buffer. Row functions look the
// weight type's decoder up once per thread chunk, never per element.
//
// Accuracy contract (docs/quantization.md, tests/kernels/quant_matmul_test.cpp): with
// QuantProblem::round_x false every path computes y against the exact dequantized weights with
// f32-grade error (relative L2 <= 1e-5 vs matmul_reference). With round_x true a path may
// round its operands as its fast_rounding() names (kernels/matmul_precision.h), and must then
// match the exact product of those rounded operands with the same f32-grade error.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/matmul_precision.h"
#include "quant/registry.h"

namespace insitu::kernels {

inline constexpr int kNumQuantTypes = static_cast<int>(QuantType::kCount);

struct QuantProblem {
  QuantType type = QuantType::kQ4_0;
  const uint8_t* w = nullptr;  // rows * row_bytes bytes in the registry's row format
  size_t row_bytes = 0;
  int64_t rows = 0;          // output features; also the row stride of y
  int64_t cols = 0;          // input features, a multiple of the type's block size
  const float* x = nullptr;  // [m, cols], row-major
  int64_t m = 0;
  float* y = nullptr;           // [m, rows], row-major
  const void* xprep = nullptr;  // output of QuantPath::prepare_x, when the path has one
  bool round_x = false;         // the caller allows fast_rounding(type) (see above)
  // w is in the row-group layout (WeightLayout::kRowGroups; only for paths with
  // QuantPath::row_groups): row r's group starts at w + (r / 16) * 16 * row_bytes.
  bool row_groups = false;
};

// Computes y[i, r] for every i < m and r in [r0, r1). `scratch` is this thread's private,
// 64-byte aligned buffer of scratch_bytes(type, cols, m) bytes.
using QuantRowsFn = void (*)(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch);

struct QuantPath {
  QuantRowsFn rows;
  // Thread chunks of output rows are multiples of this.
  int64_t row_grain;
  size_t (*scratch_bytes)(QuantType type, int64_t cols, int64_t m);
  // Optional (nullptr: none): activations converted once per call into a shared buffer of
  // prep_bytes(m, cols) bytes (64-byte aligned); prepare_x fills activation rows [i0, i1)
  // and may be called concurrently for disjoint row ranges.
  size_t (*prep_bytes)(int64_t m, int64_t cols);
  void (*prepare_x)(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0, int64_t i1,
                    bool round_x, void* out);
  // Optional (nullptr: always exact): the rounding this path applies to `type` when
  // QuantProblem::round_x is set.
  OperandRounding (*fast_rounding)(QuantType type);
  // The rows function also reads WeightLayout::kRowGroups matrices (QuantProblem::row_groups);
  // row ranges then start at multiples of 16. false: the dispatcher converts them back first.
  bool row_groups = false;
};

struct QuantKernelSet {
  const char* gemv_name;
  const char* gemm_name;
  int64_t gemv_max_m;  // batches of up to this many activation rows use the decode path
  QuantPath gemv;
  QuantPath gemm;
  // Optional decode path for WeightLayout::kRowGroups matrices (quant/layout/row_groups.h):
  // row ranges given to its rows function start at multiples of 16, and QuantProblem::w holds
  // the groups. groups_supported == nullptr: the set has none; other paths meet such a matrix
  // through the dispatcher, which converts its rows back to the row format first.
  bool (*groups_supported)(QuantType type, int64_t cols) = nullptr;
  QuantPath gemv_groups = {};
  // Optional (nullptr: quant/layout's unpack_row_groups): a faster conversion of rows [0, rows)
  // of a row-group matrix back to the row format, byte for byte the same; the dispatcher runs
  // it before every path without a row-group kernel (prefill).
  void (*unpack_groups)(QuantType type, const uint8_t* src, uint8_t* dst, int64_t rows,
                        int64_t cols) = nullptr;
};

// Defined in the ISA translation units; call only when the host supports the ISA.
const QuantKernelSet& quant_kernels_scalar();
const QuantKernelSet& quant_kernels_avx2();
const QuantKernelSet& quant_kernels_avx512();
const QuantKernelSet& quant_kernels_amx();

}  // namespace insitu::kernels
