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

// kFast always allows rounding; kAuto where auto_rounds_activations says (matmul_precision.h).
bool rounding_allowed(QuantType type) {
  switch (matmul_precision()) {
    case MatmulPrecision::kFast: return true;
    case MatmulPrecision::kExact: return false;
    case MatmulPrecision::kAuto: break;
  }
  return auto_rounds_activations(type);
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

// The most matrices matmul_quantized_group runs together (q, k, v).
constexpr size_t kMaxGroup = 4;

kernels::QuantProblem problem_for(const WeightMatrix& w, const float* x, int64_t m, float* y) {
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
  p.row_groups = w.layout == WeightLayout::kRowGroups;
  return p;
}

// Converts the activations once (the path's prepare_x, in parallel for a batch) into this
// thread's prep buffer and points p.xprep at it.
void prepare_activations(const kernels::QuantPath& path, kernels::QuantProblem& p,
                         ThreadPool& pool) {
  if (!path.prep_bytes) return;
  void* prep = t_prep_scratch.get(path.prep_bytes(p.m, p.cols));
  if (p.m < 8) {
    path.prepare_x(p.type, p.x, p.m, p.cols, 0, p.m, p.round_x, prep);
  } else {
    pool.parallel_for(p.m, 8, [&](int64_t i0, int64_t i1, int) {
      path.prepare_x(p.type, p.x, p.m, p.cols, i0, i1, p.round_x, prep);
    });
  }
  p.xprep = prep;
}

// Whether `path` runs `w`'s storage directly: the row format, or the row-group layout on a
// path that reads it (the row-group decode kernels, the AMX GEMM). Otherwise matmul_quantized
// converts slices back to rows.
bool runs_directly(const kernels::QuantKernelSet& ks, const kernels::QuantPath& path,
                   const WeightMatrix& w) {
  return w.layout == WeightLayout::kRows || path.row_groups;
}

// Runs n problems of one path as one loop over their rows (problem i is rows [starts[i],
// starts[i + 1]) of it; every start a multiple of the row grain). Decode streams the matrices
// once: each thread's long first chunk keeps its DRAM streams going
// (ThreadPool::Schedule::kStreaming); prefill's compute-bound tiles stay guided.
void run_rows(const kernels::QuantKernelSet& ks, const kernels::QuantPath& path,
              const kernels::QuantProblem* ps, const int64_t* starts, size_t n, ThreadPool& pool) {
  // Every row of these matrices has the same byte size, so equal row counts are equal bytes.
  const size_t scratch_bytes = path.scratch_bytes(ps[0].type, ps[0].cols, ps[0].m);
  const kernels::QuantRowsFn fn = path.rows;
  const auto schedule =
      &path == &ks.gemm ? ThreadPool::Schedule::kGuided : ThreadPool::Schedule::kStreaming;
  pool.parallel_for(
      starts[n], path.row_grain,
      [&](int64_t b, int64_t e, int) {
        void* scratch = t_rows_scratch.get(scratch_bytes);
        for (size_t i = 0; i < n; ++i) {
          const int64_t r0 = std::max(b, starts[i]) - starts[i];
          const int64_t r1 = std::min(e, starts[i + 1]) - starts[i];
          if (r0 < r1) fn(ps[i], r0, r1, scratch);
        }
      },
      schedule);
}

}  // namespace

bool matmul_quantized_can_group(std::span<const WeightMatrix* const> ws, int64_t m) {
  if (ws.size() < 2 || ws.size() > kMaxGroup || m <= 0) return false;
  const WeightMatrix& w0 = *ws[0];
  if (quant_is_dense(w0.type) || w0.cols <= 0) return false;
  const kernels::QuantKernelSet& ks = quant_kernels_for(active_isa());
  const kernels::QuantPath& path = path_for(ks, w0, m);
  if (!runs_directly(ks, path, w0)) return false;  // converted slice by slice: not grouped
  for (size_t i = 0; i < ws.size(); ++i) {
    const WeightMatrix& w = *ws[i];
    if (w.type != w0.type || w.layout != w0.layout || w.cols != w0.cols || w.rows <= 0)
      return false;
    // Every matrix but the last starts the next one at a multiple of the row grain, so the
    // pool's chunks split at grain multiples inside each matrix too.
    if (i + 1 < ws.size() && w.rows % path.row_grain != 0) return false;
  }
  return true;
}

void matmul_quantized_group(std::span<const WeightMatrix* const> ws, const float* x, int64_t m,
                            std::span<float* const> ys, ThreadPool& pool) {
  INSITU_CHECK(matmul_quantized_can_group(ws, m) && ys.size() == ws.size(),
               "matmul_quantized_group: matrices that cannot run as one group");
  const kernels::QuantKernelSet& ks = quant_kernels_for(active_isa());
  const WeightMatrix& w0 = *ws[0];
  const kernels::QuantPath& path = path_for(ks, w0, m);
  kernels::QuantProblem ps[kMaxGroup];
  int64_t starts[kMaxGroup + 1] = {0};
  const size_t n = ws.size();
  for (size_t i = 0; i < n; ++i) {
    ps[i] = problem_for(*ws[i], x, m, ys[i]);
    starts[i + 1] = starts[i] + ws[i]->rows;
  }
  prepare_activations(path, ps[0], pool);  // one conversion serves every matrix
  for (size_t i = 1; i < n; ++i) ps[i].xprep = ps[0].xprep;
  run_rows(ks, path, ps, starts, n, pool);
}

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
  kernels::QuantProblem p = problem_for(w, x, m, y);
  prepare_activations(path, p, pool);
  if (runs_directly(ks, path, w)) {
    const int64_t starts[2] = {0, w.rows};
    run_rows(ks, path, &p, starts, 1, pool);
    return;
  }
  const size_t scratch_bytes = path.scratch_bytes(w.type, w.cols, m);
  const kernels::QuantRowsFn fn = path.rows;
  // A row-group matrix on a path without a row-group kernel (prefill, or an ISA without one):
  // each thread converts kUnpackRows rows at a time back to the row format and runs the path
  // on them. The conversion streams the weights once more, which prefill's compute hides.
  const size_t unpack_bytes = kUnpackRows * p.row_bytes;
  pool.parallel_for(w.rows, kUnpackRows, [&](int64_t r0, int64_t r1, int) {
    void* scratch = t_rows_scratch.get(scratch_bytes);
    auto* rowwise = static_cast<uint8_t*>(t_unpack_scratch.get(unpack_bytes));
    for (int64_t s = r0; s < r1; s += kUnpackRows) {
      const int64_t n = std::min(r1 - s, kUnpackRows);
      (ks.unpack_groups ? ks.unpack_groups : unpack_row_groups)(w.type, w.data + s * p.row_bytes,
                                                                rowwise, n, w.cols);
      kernels::QuantProblem q = p;
      q.w = rowwise;
      q.row_groups = false;  // converted: the path reads rows
      q.y = p.y + s;  // row r of this slice is output column s + r (y's row stride stays rows)
      fn(q, 0, n, scratch);
    }
  });
}

}  // namespace insitu
