// The opt-in per-matrix timing (kernels/matmul_trace.h): every matmul call lands in its shape's
// row with the weights' bytes, decode and prefill apart, largest matrices first.
#include "kernels/matmul_trace.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "core/thread_pool.h"
#include "quant/registry.h"

namespace insitu {
namespace {

struct Matrix {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
  Matrix(QuantType t, int64_t rows, int64_t cols) {
    std::vector<float> src(rows * cols, 0.25f);
    bytes.resize(rows * quant_row_bytes(t, cols));
    quantize_rows(t, src.data(), bytes.data(), rows, cols, nullptr, nullptr);
    w.type = t;
    w.rows = rows;
    w.cols = cols;
    w.data = bytes.data();
  }
};

TEST(MatmulTrace, RecordsEveryCallPerShapeAndPath) {
  ThreadPool pool(2);
  Matrix small(QuantType::kQ4K, 32, 256), large(QuantType::kQ8_0, 64, 512);
  std::vector<float> x(8 * 512, 0.5f), y(8 * 64);
  const bool was = matmul_trace_set_enabled(true);
  matmul_trace_clear();
  for (int i = 0; i < 3; ++i) matmul(small.w, x.data(), 1, y.data(), pool);
  matmul(large.w, x.data(), 1, y.data(), pool);
  matmul(large.w, x.data(), 8, y.data(), pool);  // prefill: its own row
  matmul_trace_set_enabled(false);
  matmul(small.w, x.data(), 1, y.data(), pool);  // not recorded
  const std::vector<MatmulTraceRow> rows = matmul_trace_rows();
  matmul_trace_set_enabled(was);
  ASSERT_EQ(rows.size(), 3u);
  // Decode first, largest matrix first; then prefill.
  EXPECT_TRUE(rows[0].decode);
  EXPECT_EQ(rows[0].type, "q8_0");
  EXPECT_EQ(rows[0].calls, 1);
  EXPECT_DOUBLE_EQ(rows[0].bytes, 64.0 * quant_row_bytes(QuantType::kQ8_0, 512));
  EXPECT_TRUE(rows[1].decode);
  EXPECT_EQ(rows[1].type, "q4k");
  EXPECT_EQ(rows[1].rows, 32);
  EXPECT_EQ(rows[1].cols, 256);
  EXPECT_EQ(rows[1].calls, 3);
  EXPECT_DOUBLE_EQ(rows[1].bytes, 3 * 32.0 * quant_row_bytes(QuantType::kQ4K, 256));
  EXPECT_FALSE(rows[2].decode);
  EXPECT_EQ(rows[2].calls, 1);
  for (const MatmulTraceRow& r : rows) EXPECT_GT(r.seconds, 0.0);
  std::ostringstream out;
  matmul_trace_print(out);
  EXPECT_NE(out.str().find("32x256"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("prefill"), std::string::npos) << out.str();
  matmul_trace_clear();
  EXPECT_TRUE(matmul_trace_rows().empty());
}

}  // namespace
}  // namespace insitu
