#include "kernels/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/dense_kernels.h"
#include "kernels/matmul_quant.h"
#include "kernels/matmul_trace.h"
#include "kernels/thread_scratch.h"
#include "quant/layout/row_groups.h"

namespace insitu {
namespace {

thread_local kernels::ThreadScratch t_kernel_scratch;
thread_local kernels::ThreadScratch t_prep_scratch;

const kernels::DenseKernelSet& dense_kernels_for(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAmx: return kernels::dense_kernels_amx();
    case IsaLevel::kAvx512: return kernels::dense_kernels_avx512();
    case IsaLevel::kAvx2: return kernels::dense_kernels_avx2();
    case IsaLevel::kScalar: break;
  }
  return kernels::dense_kernels_scalar();
}

}  // namespace

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes();
  if (w.layout == WeightLayout::kRowGroups) {
    thread_local std::vector<uint8_t> rowwise;
    rowwise.resize(w.row_bytes());
    unpack_row_group_row(w.type, w.data, r, w.cols, rowwise.data());
    row = rowwise.data();
  }
  switch (w.type) {
    case QuantType::kF32: std::copy_n(reinterpret_cast<const float*>(row), w.cols, out); return;
    case QuantType::kF16: {
      auto* p = reinterpret_cast<const uint16_t*>(row);
      for (int64_t c = 0; c < w.cols; ++c) out[c] = f16_to_f32(p[c]);
      return;
    }
    case QuantType::kBF16: {
      auto* p = reinterpret_cast<const uint16_t*>(row);
      for (int64_t c = 0; c < w.cols; ++c) out[c] = bf16_to_f32(p[c]);
      return;
    }
    default:  // every other type: the registry's reference dequantizer
      insitu::dequantize_row(w.type, row, out, w.cols);
      return;
  }
}

WeightLayout preferred_weight_layout(QuantType type, int64_t rows, int64_t cols) {
  static const bool disabled = [] {
    const char* v = std::getenv("INSITU_ROW_GROUPS");
    return v && std::string_view(v) == "0";
  }();
  // Dense types have no block fields, so row_groups_defined also rules them out.
  if (disabled || rows % kRowGroupRows != 0 || !row_groups_defined(type))
    return WeightLayout::kRows;
  return matmul_quantized_has_row_groups(type, cols) ? WeightLayout::kRowGroups
                                                     : WeightLayout::kRows;
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      const float* xi = x + i * w.cols;
      for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>(xi[c]) * row[c];
      y[i * w.rows + r] = static_cast<float>(acc);
    }
  }
}

const char* matmul_kernel_name(QuantType type, int64_t m) {
  if (!quant_is_dense(type)) return "dequantize";
  const IsaLevel isa = active_isa();
  // The AMX set decodes (m <= kGemvMaxM) with the AVX-512 GEMV.
  if (isa == IsaLevel::kAmx && m <= kernels::kGemvMaxM) return "avx512";
  return dense_kernels_for(isa).name;
}

void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y, ThreadPool& pool) {
  if (w.rows <= 0 || m <= 0) return;
  const MatmulTraceScope trace(w, m);
  if (w.cols <= 0) {
    std::fill_n(y, m * w.rows, 0.f);
    return;
  }
  if (!quant_is_dense(w.type)) {
    matmul_quantized(w, x, m, y, pool);
    return;
  }
  // One table lookup per call; the kernels below never dispatch again.
  const kernels::DenseKernelSet& ks = dense_kernels_for(active_isa());
  const int t = static_cast<int>(w.type);
  kernels::DenseProblem p;
  p.type = t;
  p.w = w.data;
  p.row_bytes = w.row_bytes();
  p.rows = w.rows;
  p.cols = w.cols;
  p.x = x;
  p.m = m;
  p.y = y;
  // Dense rows all cost the same bytes, so equal row counts give both threads equal bytes.
  if (m <= kernels::kGemvMaxM) {
    const kernels::RowsFn fn = ks.gemv[t];
    pool.parallel_for(
        w.rows, 16, [&](int64_t r0, int64_t r1, int) { fn(p, r0, r1, nullptr); },
        ThreadPool::Schedule::kStreaming);
    return;
  }
  if (ks.prepare_x) {
    void* prep = t_prep_scratch.get(ks.prep_bytes(m, w.cols));
    pool.parallel_for(
        m, 16, [&](int64_t i0, int64_t i1, int) { ks.prepare_x(x, m, w.cols, i0, i1, prep); });
    p.xprep = prep;
  }
  const kernels::RowsFn fn = ks.gemm[t];
  const size_t scratch_bytes = ks.gemm_scratch_bytes(t, w.cols, m);
  pool.parallel_for(w.rows, ks.gemm_row_grain, [&](int64_t r0, int64_t r1, int) {
    fn(p, r0, r1, t_kernel_scratch.get(scratch_bytes));
  });
}

void matmul_group(std::span<const WeightMatrix* const> ws, const float* x, int64_t m,
                  std::span<float* const> ys, ThreadPool& pool) {
  INSITU_CHECK(ws.size() == ys.size(), "matmul_group: one output per matrix");
  // Runs of consecutive matrices of one type and layout (a K-quant mix may raise v above q
  // and k) go as one pass each where they can.
  for (size_t i = 0; i < ws.size();) {
    size_t j = i + 1;
    while (j < ws.size() && ws[j]->type == ws[i]->type && ws[j]->layout == ws[i]->layout) ++j;
    const auto run_w = ws.subspan(i, j - i);
    const auto run_y = ys.subspan(i, j - i);
    if (matmul_quantized_can_group(run_w, m)) {
      WeightMatrix all = *run_w[0];  // the trace sees the run as one matrix of all its rows
      all.rows = 0;
      for (const WeightMatrix* w : run_w) all.rows += w->rows;
      const MatmulTraceScope trace(all, m);
      matmul_quantized_group(run_w, x, m, run_y, pool);
    } else {
      for (size_t k = 0; k < run_w.size(); ++k) matmul(*run_w[k], x, m, run_y[k], pool);
    }
    i = j;
  }
}

}  // namespace insitu
