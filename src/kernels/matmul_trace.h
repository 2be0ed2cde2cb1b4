// Opt-in timing of every matmul call per weight matrix shape (INSITU_MATMUL_TRACE=1 in the
// environment), for finding which matrices of a real forward pass stream slowest. Decode
// matrices are small (0.3-14 MB) and interleaved with other work, so whole-run tok/s hides them
// and a microbenchmark of one shape measures a different context; comparing each matrix's GB/s
// with the largest matrix's in the same process cancels the drift of a shared host
// (docs/performance.md, "Session 6 update"). Off, it costs one branch per call.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "kernels/matmul.h"

namespace insitu {

// Whether calls are being timed: INSITU_MATMUL_TRACE set to something other than "0" at the
// first call, or the last matmul_trace_set_enabled. Returns the previous setting.
bool matmul_trace_enabled();
bool matmul_trace_set_enabled(bool on);

struct MatmulTraceRow {
  std::string type;  // registry name
  int64_t rows = 0, cols = 0;
  bool decode = false;      // m <= 4
  bool row_groups = false;  // WeightLayout::kRowGroups
  int64_t calls = 0;
  double seconds = 0, bytes = 0;  // summed over calls (bytes: the weights, once per call)
  double gbps() const { return seconds > 0 ? bytes / seconds / 1e9 : 0; }
};

// Adds one call of w (m activation rows) that took `seconds`.
void matmul_trace_record(const WeightMatrix& w, int64_t m, double seconds);
// The rows recorded so far, decode before prefill, largest matrices first.
std::vector<MatmulTraceRow> matmul_trace_rows();
void matmul_trace_clear();
// A table of the rows: calls, us per call, GB/s and GB/s relative to the largest matrix of
// the same path (decode or prefill).
void matmul_trace_print(std::ostream& out);

// Times the enclosing matmul call when tracing is on.
class MatmulTraceScope {
 public:
  MatmulTraceScope(const WeightMatrix& w, int64_t m);
  ~MatmulTraceScope();
  MatmulTraceScope(const MatmulTraceScope&) = delete;
  MatmulTraceScope& operator=(const MatmulTraceScope&) = delete;

 private:
  const WeightMatrix* w_ = nullptr;  // null when tracing is off
  int64_t m_ = 0;
  int64_t start_ns_ = 0;
};

}  // namespace insitu
