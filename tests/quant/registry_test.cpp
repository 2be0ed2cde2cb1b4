#include "quant/registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "quant_test_util.h"

namespace insitu {
namespace {

TEST(Registry, TableIsIndexedByTypeAndNamesAreUnique) {
  std::set<std::string_view> names;
  int i = 0;
  for (const auto& row : all_quant_types()) {
    EXPECT_EQ(static_cast<int>(row.type), i++);
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_NE(row.quantize, nullptr) << row.name;
    EXPECT_NE(row.dequantize, nullptr) << row.name;
    EXPECT_GT(row.block_size, 0);
    EXPECT_GT(row.bytes_per_block, 0);
  }
  EXPECT_EQ(i, static_cast<int>(QuantType::kCount));
}

TEST(Registry, CanonicalNamesAreStable) {
  // On-disk identifiers: these must never change.
  const char* expected[] = {"f32",  "f16",  "bf16", "q4_0", "q4_1", "q5_0", "q5_1",
                            "q8_0", "q8_1", "q2k",  "q3k",  "q4k",  "q5k",  "q6k",
                            "q8k",  "afq2", "afq3", "afq4", "afq6", "afq8", "hqq4",
                            "hqq8", "fp8",  "f8q8", "mxfp4"};
  ASSERT_EQ(std::size(expected), static_cast<size_t>(QuantType::kCount));
  for (size_t i = 0; i < std::size(expected); ++i)
    EXPECT_EQ(quant_info(static_cast<QuantType>(i)).name, expected[i]);
}

TEST(Registry, BitsPerWeightMatchTheReference) {
  struct Row {
    QuantType t;
    double bpw;
  };
  // reference-system.md 3.1 (fp8: our 1x128 f32-scaled blocks, see fp8.h).
  const Row rows[] = {
      {QuantType::kQ4_0, 4.5},   {QuantType::kQ4_1, 5.0},    {QuantType::kQ5_0, 5.5},
      {QuantType::kQ5_1, 6.0},   {QuantType::kQ8_0, 8.5},    {QuantType::kQ8_1, 9.0},
      {QuantType::kQ2K, 2.625},  {QuantType::kQ3K, 3.4375},  {QuantType::kQ4K, 4.5},
      {QuantType::kQ5K, 5.5},    {QuantType::kQ6K, 6.5625},  {QuantType::kQ8K, 9.125},
      {QuantType::kAfq2, 2.5},   {QuantType::kAfq3, 3.5},    {QuantType::kAfq4, 4.5},
      {QuantType::kAfq6, 6.5},   {QuantType::kAfq8, 8.5},    {QuantType::kHqq4, 5.0},
      {QuantType::kHqq8, 9.0},   {QuantType::kFp8, 8.25},    {QuantType::kF8Q8, 8.25},
      {QuantType::kMxfp4, 4.25}, {QuantType::kBF16, 16.0},   {QuantType::kF32, 32.0},
  };
  for (const auto& r : rows) EXPECT_DOUBLE_EQ(quant_info(r.t).bits_per_weight(), r.bpw);
  EXPECT_EQ(quant_info(QuantType::kMxfp4).ggml_type, 39);
  EXPECT_EQ(quant_info(QuantType::kQ6K).ggml_type, 14);
}

TEST(Registry, ParsesAliasesCaseInsensitively) {
  for (const char* s : {"Q4_K", "q4_k", "q4k", "Q4K", "q4-k"})
    EXPECT_EQ(parse_quant_type(s), QuantType::kQ4K) << s;
  for (const char* s : {"q2_K", "Q3_K", "q5_K", "Q6_K", "q8_K"}) EXPECT_TRUE(parse_quant_type(s));
  EXPECT_EQ(parse_quant_type("Q8_0"), QuantType::kQ8_0);
  EXPECT_EQ(parse_quant_type("q80"), QuantType::kQ8_0);
  EXPECT_EQ(parse_quant_type("AFQ4"), QuantType::kAfq4);
  EXPECT_EQ(parse_quant_type("HQQ8"), QuantType::kHqq8);
  EXPECT_EQ(parse_quant_type("F8E4M3"), QuantType::kFp8);
  EXPECT_EQ(parse_quant_type("MXFP4"), QuantType::kMxfp4);
  EXPECT_EQ(parse_quant_type("BF16"), QuantType::kBF16);
  EXPECT_EQ(parse_quant_type("bfloat16"), QuantType::kBF16);
  EXPECT_EQ(parse_quant_type("float16"), QuantType::kF16);
}

TEST(Registry, RejectsUnknownNamesAndMixRecipes) {
  for (const char* s : {"", "q4", "q4_k_m", "Q4_K_S", "q7_0", "afq5", "hqq3", "iq4_xs", "_", "4"})
    EXPECT_FALSE(parse_quant_type(s)) << s;
}

TEST(Registry, RowBytesAndBlockChecks) {
  EXPECT_EQ(quant_row_bytes(QuantType::kQ4K, 4096), 16u * 144);
  EXPECT_EQ(quant_row_bytes(QuantType::kAfq3, 128), 2u * 28);
  EXPECT_EQ(quant_row_bytes(QuantType::kHqq4, 64), 40u);
  std::vector<float> x(100);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(quantize_row(QuantType::kQ4K, x.data(), out.data(), 100), Error);
  EXPECT_THROW(dequantize_row(QuantType::kQ4_0, out.data(), x.data(), 33), Error);
}

TEST(Registry, QuantizeRowsIsThreadCountInvariant) {
  const int64_t rows = 37, cols = 512;
  const auto x = test::gaussian(rows * cols, 0.05f, 7);
  const auto imp = test::gaussian(cols, 1.f, 8);
  std::vector<float> importance(cols);
  for (int64_t c = 0; c < cols; ++c) importance[c] = 0.1f + imp[c] * imp[c];
  ThreadPool pool(2);
  for (QuantType t : {QuantType::kQ4K, QuantType::kQ3K, QuantType::kQ4_0, QuantType::kAfq4,
                      QuantType::kHqq4, QuantType::kMxfp4}) {
    const size_t rb = quant_row_bytes(t, cols);
    std::vector<uint8_t> serial(rb * rows), parallel(rb * rows);
    quantize_rows(t, x.data(), serial.data(), rows, cols, importance.data(), nullptr);
    quantize_rows(t, x.data(), parallel.data(), rows, cols, importance.data(), &pool);
    EXPECT_EQ(serial, parallel) << quant_info(t).name;
    // Row r of the batch equals quantizing row r alone.
    std::vector<uint8_t> one(rb);
    quantize_row(t, x.data() + 5 * cols, one.data(), cols, importance.data());
    EXPECT_EQ(0, std::memcmp(one.data(), serial.data() + 5 * rb, rb)) << quant_info(t).name;
  }
}

TEST(Registry, DenseRowsRoundTrip) {
  const auto x = test::gaussian(256, 1.f, 3);
  std::vector<uint8_t> buf(1024);
  std::vector<float> y(256);
  quantize_row(QuantType::kF32, x.data(), buf.data(), 256);
  dequantize_row(QuantType::kF32, buf.data(), y.data(), 256);
  EXPECT_EQ(x, y);
  quantize_row(QuantType::kBF16, x.data(), buf.data(), 256);
  dequantize_row(QuantType::kBF16, buf.data(), y.data(), 256);
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(y[i], x[i], std::fabs(x[i]) * (1.f / 256));
}

}  // namespace
}  // namespace insitu
