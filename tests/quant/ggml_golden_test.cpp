// Bit-exactness against ggml's own quantizers (shared/golden/ggml, see its README).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "quant/ggml/ggml_quants.h"
#include "quant/registry.h"
#include "quant_test_util.h"

namespace insitu {
namespace {

using test::golden_dir;
using test::read_bytes;
using test::read_f32;

constexpr int kRows = 16;
constexpr int kCols = 4096;

struct GoldenType {
  const char* ggml_name;  // file prefix
  QuantType type;
};

const GoldenType kGoldenTypes[] = {
    {"q4_0", QuantType::kQ4_0}, {"q4_1", QuantType::kQ4_1}, {"q5_0", QuantType::kQ5_0},
    {"q5_1", QuantType::kQ5_1}, {"q8_0", QuantType::kQ8_0}, {"q2_K", QuantType::kQ2K},
    {"q3_K", QuantType::kQ3K},  {"q4_K", QuantType::kQ4K},  {"q5_K", QuantType::kQ5K},
    {"q6_K", QuantType::kQ6K},
};

// "" if equal, else where the first difference is (row / block / byte).
std::string first_diff(const std::vector<uint8_t>& want, const std::vector<uint8_t>& got,
                       size_t row_bytes, size_t block_bytes) {
  if (want.size() != got.size())
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != got[i]) {
      const size_t row = i / row_bytes, in_row = i % row_bytes;
      return "row " + std::to_string(row) + " block " + std::to_string(in_row / block_bytes) +
             " byte " + std::to_string(in_row % block_bytes) + ": got " +
             std::to_string(got[i]) + " want " + std::to_string(want[i]);
    }
  }
  return "";
}

size_t count_float_diffs(const std::vector<float>& want, const std::vector<float>& got,
                         std::string* first) {
  size_t n = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&want[i], &got[i], 4) != 0) {
      if (n == 0)
        *first = "index " + std::to_string(i) + " (row " + std::to_string(i / kCols) + "): got " +
                 std::to_string(got[i]) + " want " + std::to_string(want[i]);
      ++n;
    }
  }
  return n;
}

class GgmlGolden : public ::testing::TestWithParam<GoldenType> {
 protected:
  void SetUp() override {
    input_ = read_f32(golden_dir() + "/input.f32");
    weights_ = read_f32(golden_dir() + "/weights.f32");
    ASSERT_EQ(input_.size(), size_t{kRows} * kCols) << "missing " << golden_dir();
    ASSERT_EQ(weights_.size(), size_t{kCols});
  }
  std::vector<uint8_t> quantize(QuantType t, const float* importance) {
    const size_t row_bytes = quant_row_bytes(t, kCols);
    std::vector<uint8_t> out(row_bytes * kRows);
    for (int r = 0; r < kRows; ++r)
      quantize_row(t, input_.data() + r * kCols, out.data() + r * row_bytes, kCols, importance);
    return out;
  }
  std::vector<float> input_, weights_;
};

TEST_P(GgmlGolden, QuantizeMatchesWithoutImportance) {
  const auto& p = GetParam();
  const auto want = read_bytes(golden_dir() + "/" + p.ggml_name + ".q");
  ASSERT_FALSE(want.empty());
  const auto got = quantize(p.type, nullptr);
  const auto& info = quant_info(p.type);
  EXPECT_EQ(first_diff(want, got, quant_row_bytes(p.type, kCols), info.bytes_per_block), "");
}

TEST_P(GgmlGolden, QuantizeMatchesWithImportance) {
  const auto& p = GetParam();
  const auto want = read_bytes(golden_dir() + "/" + p.ggml_name + ".imatrix.q");
  ASSERT_FALSE(want.empty());
  const auto got = quantize(p.type, weights_.data());
  const auto& info = quant_info(p.type);
  EXPECT_EQ(first_diff(want, got, quant_row_bytes(p.type, kCols), info.bytes_per_block), "");
}

TEST_P(GgmlGolden, DequantizeMatchesBitForBit) {
  const auto& p = GetParam();
  for (const std::string variant : {"", ".imatrix"}) {
    const auto q = read_bytes(golden_dir() + "/" + p.ggml_name + variant + ".q");
    const auto want = read_f32(golden_dir() + "/" + p.ggml_name + variant + ".dequant.f32");
    ASSERT_EQ(want.size(), size_t{kRows} * kCols);
    std::vector<float> got(want.size());
    const size_t row_bytes = quant_row_bytes(p.type, kCols);
    ASSERT_EQ(q.size(), row_bytes * kRows);
    for (int r = 0; r < kRows; ++r)
      dequantize_row(p.type, q.data() + r * row_bytes, got.data() + r * kCols, kCols);
    std::string first;
    EXPECT_EQ(count_float_diffs(want, got, &first), 0u) << p.ggml_name << variant << " " << first;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GgmlGolden, ::testing::ValuesIn(kGoldenTypes),
                         [](const auto& info) { return std::string(info.param.ggml_name); });

// Activation quantizers: ggml-cpu's run-time from_float.
class ActivationGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = read_f32(golden_dir() + "/input.f32");
    ASSERT_EQ(input_.size(), size_t{kRows} * kCols);
  }
  template <typename Fn>
  std::vector<uint8_t> run(Fn fn, size_t row_bytes) {
    std::vector<uint8_t> out(row_bytes * kRows);
    for (int r = 0; r < kRows; ++r) fn(input_.data() + r * kCols, out.data() + r * row_bytes, kCols);
    return out;
  }
  std::vector<float> input_;
};

TEST_F(ActivationGolden, Q8_0FromFloat) {
  const auto want = read_bytes(golden_dir() + "/q8_0.cpu_from_float.q");
  const auto got = run(ggml::quantize_row_q8_0, quant_row_bytes(QuantType::kQ8_0, kCols));
  EXPECT_EQ(first_diff(want, got, quant_row_bytes(QuantType::kQ8_0, kCols), 34), "");
  // And its dequantization.
  const auto want_f = read_f32(golden_dir() + "/q8_0.cpu_from_float.dequant.f32");
  std::vector<float> got_f(want_f.size());
  for (int r = 0; r < kRows; ++r)
    dequantize_row(QuantType::kQ8_0, want.data() + r * 4352, got_f.data() + r * kCols, kCols);
  std::string first;
  EXPECT_EQ(count_float_diffs(want_f, got_f, &first), 0u) << first;
}

TEST_F(ActivationGolden, Q8_1FromFloatAndRef) {
  const size_t rb = quant_row_bytes(QuantType::kQ8_1, kCols);
  const auto want_cpu = read_bytes(golden_dir() + "/q8_1.cpu_from_float.q");
  EXPECT_EQ(first_diff(want_cpu, run(ggml::quantize_row_q8_1, rb), rb, 36), "");
  const auto want_ref = read_bytes(golden_dir() + "/q8_1.ref.q");
  const auto ref = run([](const float* x, void* o, int64_t n) { ggml::quantize_q8_1(x, o, n, nullptr); }, rb);
  EXPECT_EQ(first_diff(want_ref, ref, rb, 36), "");
}

TEST_F(ActivationGolden, Q8_KFromFloat) {
  const size_t rb = quant_row_bytes(QuantType::kQ8K, kCols);
  const auto want = read_bytes(golden_dir() + "/q8_K.q");
  EXPECT_EQ(first_diff(want, run(ggml::quantize_row_q8_K, rb), rb, 292), "");
  const auto want_f = read_f32(golden_dir() + "/q8_K.dequant.f32");
  std::vector<float> got_f(want_f.size());
  for (int r = 0; r < kRows; ++r)
    dequantize_row(QuantType::kQ8K, want.data() + r * rb, got_f.data() + r * kCols, kCols);
  std::string first;
  EXPECT_EQ(count_float_diffs(want_f, got_f, &first), 0u) << first;
}

}  // namespace
}  // namespace insitu
