#include "kernels/matmul_quant.h"

#include <algorithm>
#include <new>

#include "core/cpu_features.h"
#include "core/error.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/thread_scratch.h"
#include "quant/layout/row_groups.h"

namespace insitu {
namespace {

thread_local kernels::ThreadScratch t_rows_scratch;
thread_local kernels::ThreadScratch t_prep_scratch;
thread_local kernels::ThreadScratch t_unpack_scratch;

const kernels::QuantKernelSet& quant_kernels_for(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAmx: return kernels::quant_kernels_amx();
    case IsaLevel::kAvx512: return kernels::quant_kernels_avx512();
    case IsaLevel::kAvx2: return kernels::quant_kernels_avx2();
    case IsaLevel::kScalar: break;
  }
  return kernels::quant_kernels_scalar();
}

// kFast always allows rounding; kAuto only below kAutoRoundMaxBits bits per weight
// (matmul_precision.h).
bool rounding_allowed(QuantType type) {
  switch (matmul_precision()) {
    case MatmulPrecision::kFast: return true;
    case MatmulPrecision::kExact: return false;
    case MatmulPrecision::kAuto: break;
  }
  return quant_info(type).bits_per_weight() < kAutoRoundMaxBits;
}

bool has_groups(const kernels::QuantKernelSet& ks, QuantType type, int64_t cols) {
  return ks.groups_supported && ks.groups_supported(type, cols);
}

const kernels::QuantPath& path_for(const kernels::QuantKernelSet& ks, const WeightMatrix& w,
                                   int64_t m) {
  if (w.layout == WeightLayout::kRowGroups && m <= ks.gemv_max_m && has_groups(ks, w.type, w.cols))
    return ks.gemv_groups;
  return m <= ks.gemv_max_m ? ks.gemv : ks.gemm;
}

// Rows the dispatcher converts back to the row format at a time, for paths without a
// row-group kernel (a multiple of every path's row grain and of 16).
constexpr int64_t kUnpackRows = 128;

}  // namespace

OperandRounding matmul_quantized_rounding(const WeightMatrix& w, int64_t m) {
  const kernels::QuantPath& path = path_for(quant_kernels_for(active_isa()), w, m);
  if (!rounding_allowed(w.type) || !path.fast_rounding) return OperandRounding::kNone;
  return path.fast_rounding(w.type);
}

OperandRounding matmul_quantized_rounding(QuantType type, int64_t m) {
  WeightMatrix w;
  w.type = type;
  return matmul_quantized_rounding(w, m);
}

bool matmul_quantized_has_row_groups(QuantType type, int64_t cols) {
  return has_groups(quant_kernels_for(active_isa()), type, cols);
}

const char* matmul_quantized_kernel_name(int64_t m) {
  const kernels::QuantKernelSet& ks = quant_kernels_for(active_isa());
  return m <= ks.gemv_max_m ? ks.gemv_name : ks.gemm_name;
}

void matmul_quantized(const WeightMatrix& w, const float* x, int64_t m, float* y,
                      ThreadPool& pool) {
  INSITU_CHECK(!quant_is_dense(w.type), "matmul_quantized: dense weight type");
  if (w.rows <= 0 || m <= 0) return;
  if (w.cols <= 0) {
    std::fill_n(y, m * w.rows, 0.f);
    return;
  }
  // One table lookup per call; the row functions never dispatch on the ISA again.
  const kernels::QuantKernelSet& ks = quant_kernels_for(active_isa());
  const kernels::QuantPath& path = path_for(ks, w, m);
  kernels::QuantProblem p;
  p.type = w.type;
  p.w = w.data;
  p.row_bytes = w.row_bytes();
  p.rows = w.rows;
  p.cols = w.cols;
  p.x = x;
  p.m = m;
  p.y = y;
  p.round_x = rounding_allowed(w.type);
  if (path.prep_bytes) {
    void* prep = t_prep_scratch.get(path.prep_bytes(m, w.cols));
    if (m < 8) {
      path.prepare_x(w.type, x, m, w.cols, 0, m, p.round_x, prep);
    } else {
      pool.parallel_for(m, 8, [&](int64_t i0, int64_t i1, int) {
        path.prepare_x(w.type, x, m, w.cols, i0, i1, p.round_x, prep);
      });
    }
    p.xprep = prep;
  }
  // Every row of one matrix has the same byte size, so equal row counts are equal bytes.
  const size_t scratch_bytes = path.scratch_bytes(w.type, w.cols, m);
  const kernels::QuantRowsFn fn = path.rows;
  if (w.layout == WeightLayout::kRows || &path == &ks.gemv_groups) {
    // Decode streams the matrix once: each thread's long first chunk keeps its DRAM streams
    // going (ThreadPool::Schedule::kStreaming); prefill's compute-bound tiles stay guided.
    const auto schedule =
        &path == &ks.gemm ? ThreadPool::Schedule::kGuided : ThreadPool::Schedule::kStreaming;
    pool.parallel_for(
        w.rows, path.row_grain,
        [&](int64_t r0, int64_t r1, int) { fn(p, r0, r1, t_rows_scratch.get(scratch_bytes)); },
        schedule);
    return;
  }
  // A row-group matrix on a path without a row-group kernel (prefill, or an ISA without one):
  // each thread converts kUnpackRows rows at a time back to the row format and runs the path
  // on them. The conversion streams the weights once more, which prefill's compute hides.
  const size_t unpack_bytes = kUnpackRows * p.row_bytes;
  pool.parallel_for(w.rows, kUnpackRows, [&](int64_t r0, int64_t r1, int) {
    void* scratch = t_rows_scratch.get(scratch_bytes);
    auto* rowwise = static_cast<uint8_t*>(t_unpack_scratch.get(unpack_bytes));
    for (int64_t s = r0; s < r1; s += kUnpackRows) {
      const int64_t n = std::min(r1 - s, kUnpackRows);
      unpack_row_groups(w.type, w.data + s * p.row_bytes, rowwise, n, w.cols);
      kernels::QuantProblem q = p;
      q.w = rowwise;
      q.y = p.y + s;  // row r of this slice is output column s + r (y's row stride stays rows)
      fn(q, 0, n, scratch);
    }
  });
}

}  // namespace insitu
