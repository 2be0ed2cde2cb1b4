#include "kernels/matmul_trace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string_view>
#include <tuple>

#include "quant/registry.h"

namespace insitu {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using Key = std::tuple<bool, int, int64_t, int64_t, bool>;  // decode, type, rows, cols, groups

// The table lives for the whole process and prints itself at exit when tracing is on, so any
// command (run, bench, perplexity, serve) can be traced without code of its own.
struct Trace {
  std::mutex mutex;
  std::map<Key, MatmulTraceRow> rows;
  ~Trace() {
    if (matmul_trace_enabled() && !rows.empty()) matmul_trace_print(std::cerr);
  }
};

Trace& trace() {
  static Trace t;
  return t;
}

}  // namespace

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on = [] {
    const char* v = std::getenv("INSITU_MATMUL_TRACE");
    return v != nullptr && std::string_view(v) != "0" && std::string_view(v) != "";
  }();
  return on;
}

bool matmul_trace_enabled() {
  return enabled_flag().load(std::memory_order_relaxed);
}

bool matmul_trace_set_enabled(bool on) {
  return enabled_flag().exchange(on);
}

void matmul_trace_record(const WeightMatrix& w, int64_t m, double seconds) {
  const bool decode = m <= 4;
  const bool groups = w.layout == WeightLayout::kRowGroups;
  Trace& t = trace();
  std::lock_guard<std::mutex> lock(t.mutex);
  MatmulTraceRow& r = t.rows[{decode, static_cast<int>(w.type), w.rows, w.cols, groups}];
  if (r.calls == 0) {
    r.type = std::string(quant_info(w.type).name);
    r.rows = w.rows;
    r.cols = w.cols;
    r.decode = decode;
    r.row_groups = groups;
  }
  r.calls += 1;
  r.seconds += seconds;
  r.bytes += static_cast<double>(w.rows) * static_cast<double>(w.row_bytes());
}

std::vector<MatmulTraceRow> matmul_trace_rows() {
  Trace& t = trace();
  std::vector<MatmulTraceRow> out;
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    for (const auto& [key, row] : t.rows) out.push_back(row);
  }
  std::stable_sort(out.begin(), out.end(), [](const MatmulTraceRow& a, const MatmulTraceRow& b) {
    if (a.decode != b.decode) return a.decode;
    return a.bytes / a.calls > b.bytes / b.calls;
  });
  return out;
}

void matmul_trace_clear() {
  Trace& t = trace();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.rows.clear();
}

void matmul_trace_print(std::ostream& out) {
  const std::vector<MatmulTraceRow> rows = matmul_trace_rows();
  out << "matmul trace (INSITU_MATMUL_TRACE): GB/s of weights per call; 'vs largest' divides by "
         "the largest matrix of the same path\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-8s %-6s %15s %-6s %8s %10s %8s %10s\n", "path", "type",
                "rows x cols", "layout", "calls", "us/call", "GB/s", "vs largest");
  out << line;
  double largest = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const MatmulTraceRow& r = rows[i];
    if (i == 0 || r.decode != rows[i - 1].decode) largest = r.gbps();  // largest first per path
    const std::string shape = std::to_string(r.rows) + "x" + std::to_string(r.cols);
    std::snprintf(line, sizeof line, "%-8s %-6s %15s %-6s %8lld %10.1f %8.2f %10.2f\n",
                  r.decode ? "decode" : "prefill", r.type.c_str(), shape.c_str(),
                  r.row_groups ? "groups" : "rows", static_cast<long long>(r.calls),
                  r.seconds / static_cast<double>(r.calls) * 1e6, r.gbps(),
                  largest > 0 ? r.gbps() / largest : 0.0);
    out << line;
  }
}

MatmulTraceScope::MatmulTraceScope(const WeightMatrix& w, int64_t m) {
  if (!matmul_trace_enabled()) return;
  w_ = &w;
  m_ = m;
  start_ns_ = now_ns();
}

MatmulTraceScope::~MatmulTraceScope() {
  if (w_ != nullptr) matmul_trace_record(*w_, m_, static_cast<double>(now_ns() - start_ns_) * 1e-9);
}

}  // namespace insitu
