#include "kernels/matmul_quant.h"

#include <algorithm>
#include <new>

#include "core/cpu_features.h"
#include "core/error.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/thread_scratch.h"

namespace insitu {
namespace {

thread_local kernels::ThreadScratch t_rows_scratch;
thread_local kernels::ThreadScratch t_prep_scratch;

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

const kernels::QuantPath& path_for(const kernels::QuantKernelSet& ks, int64_t m) {
  return m <= ks.gemv_max_m ? ks.gemv : ks.gemm;
}

}  // namespace

OperandRounding matmul_quantized_rounding(QuantType type, int64_t m) {
  const kernels::QuantPath& path = path_for(quant_kernels_for(active_isa()), m);
  if (!rounding_allowed(type) || !path.fast_rounding) return OperandRounding::kNone;
  return path.fast_rounding(type);
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
  const kernels::QuantPath& path = path_for(ks, m);
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
  pool.parallel_for(w.rows, path.row_grain, [&](int64_t r0, int64_t r1, int) {
    fn(p, r0, r1, t_rows_scratch.get(scratch_bytes));
  });
}

}  // namespace insitu
