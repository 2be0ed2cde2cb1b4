// The fast quantizers (quant/fast) against the scalar reference, byte for byte: golden inputs,
// real weights of the demo model, Gaussian data with outliers, degenerate blocks (zeros, ties,
// constants, subnormals, inf/NaN), short rows with partial lane groups, with and without
// importance, at every ISA level the host has.
#include "quant/fast/fast_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fp8/fp8.h"
#include "quant/registry.h"
#include "quant_test_util.h"

namespace insitu {
namespace {

using test::golden_dir;
using test::read_bytes;
using test::read_f32;

const QuantType kFastTypes[] = {
    QuantType::kQ4K,  QuantType::kQ6K,  QuantType::kQ8_0, QuantType::kQ4_0, QuantType::kQ5K,
    QuantType::kQ3K,  QuantType::kQ2K,  QuantType::kQ4_1, QuantType::kQ5_0, QuantType::kQ5_1,
    QuantType::kQ8_1, QuantType::kQ8K,  QuantType::kHqq4, QuantType::kHqq8, QuantType::kMxfp4,
    QuantType::kAfq2, QuantType::kAfq3, QuantType::kAfq4, QuantType::kAfq6, QuantType::kAfq8,
    QuantType::kFp8,  QuantType::kF8Q8,
};

bool in_fast_types(QuantType t) {
  return std::find(std::begin(kFastTypes), std::end(kFastTypes), t) != std::end(kFastTypes);
}

// Restores the ISA cap when a test ends.
class IsaCap {
 public:
  explicit IsaCap(IsaLevel cap) : prev_(set_isa_cap(cap)) {}
  ~IsaCap() { set_isa_cap(prev_); }

 private:
  IsaLevel prev_;
};

std::vector<IsaLevel> host_levels() {
  std::vector<IsaLevel> v;
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAmx})
    if (l <= detected_isa()) v.push_back(l);
  return v;
}

// A named matrix of test rows (rows x cols, f32) with per-column importance weights.
struct Dataset {
  std::string name;
  int64_t rows, cols;
  std::vector<float> x;
  std::vector<float> importance;  // cols values
};

std::vector<float> positive_weights(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> w(n);
  for (auto& v : w) v = u(rng) < 0.05f ? 0.f : 0.01f + 3.f * u(rng) * u(rng);
  return w;
}

// bf16 tensors of the demo model (a safetensors shard: u64 header length, JSON, data).
std::vector<float> demo_weights(size_t max_values) {
  const std::string path =
      test::shared_dir() + "/models/trained-llama-14m/model-00001-of-00002.safetensors";
  const auto bytes = read_bytes(path);
  if (bytes.size() < 8) return {};
  uint64_t hlen;
  std::memcpy(&hlen, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + hlen);
  std::vector<float> out;
  for (const auto& [name, t] : header.items()) {
    if (name == "__metadata__" || t["dtype"] != "BF16") continue;
    const size_t b = t["data_offsets"][0], e = t["data_offsets"][1];
    for (size_t o = b; o + 1 < e && out.size() < max_values; o += 2) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 8 + hlen + o, 2);
      out.push_back(bf16_to_f32(h));
    }
  }
  return out;
}

// Blocks built to hit the reference's edge cases: all zero, signed zeros, constant, a single
// non-zero, +a and -a of equal magnitude (first one wins), exact .5 ties, f16-subnormal and
// f32-subnormal magnitudes, huge values, inf and NaN; one kind per `block` elements (32 for
// ggml's blocks, 64 for the group-64 types and 128 for fp8, whose blocks would otherwise mix
// kinds).
std::vector<float> edge_rows(int64_t n, uint64_t seed, int64_t block = 32) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_int_distribution<int> kind_of(0, 13);
  std::vector<float> x(n);
  for (int64_t b = 0; b < n; b += block) {
    const int kind = kind_of(rng);
    for (int64_t i = b; i < b + block; ++i) {
      const float r = g(rng);
      switch (kind) {
        case 0: x[i] = 0.f; break;
        case 1: x[i] = (i & 1) ? -0.f : 0.f; break;
        case 2: x[i] = 0.75f; break;
        case 3: x[i] = i == b + 7 ? -3.f : 0.f; break;
        case 4: x[i] = (i == b + 3) ? 2.f : (i == b + 9) ? -2.f : 0.5f * r; break;
        case 5: x[i] = static_cast<float>(static_cast<int>(8 * r)) * 0.5f; break;
        case 6: x[i] = 1e-6f * r; break;
        case 7: x[i] = 1e-39f * r; break;
        case 8: x[i] = 1e30f * r; break;
        case 9: x[i] = (i == b + 5) ? std::numeric_limits<float>::infinity() : r; break;
        case 10: x[i] = (i == b + 11) ? std::numeric_limits<float>::quiet_NaN() : r; break;
        case 11: x[i] = std::fabs(r) + 2.f; break;
        case 12: x[i] = -std::fabs(r) - 2.f; break;
        default: x[i] = static_cast<float>(static_cast<int>(4 * r)); break;
      }
    }
  }
  return x;
}

std::vector<Dataset> datasets() {
  std::vector<Dataset> d;
  {
    Dataset g{"golden", 16, 4096, read_f32(golden_dir() + "/input.f32"),
              read_f32(golden_dir() + "/weights.f32")};
    if (g.x.size() == 16u * 4096 && g.importance.size() == 4096u) d.push_back(std::move(g));
  }
  {
    auto w = demo_weights(256 * 2048);
    const int64_t cols = 2048;
    const int64_t rows = static_cast<int64_t>(w.size()) / cols;
    w.resize(rows * cols);
    if (rows > 0) d.push_back({"demo_model", rows, cols, std::move(w), positive_weights(cols, 7)});
  }
  {
    auto x = test::gaussian(128 * 2048, 0.02f, 11);
    std::mt19937_64 rng(12);
    std::uniform_int_distribution<size_t> pos(0, x.size() - 1);
    for (int k = 0; k < 2000; ++k) x[pos(rng)] *= 60.f;  // outliers
    d.push_back({"gaussian_outliers", 128, 2048, std::move(x), positive_weights(2048, 13)});
  }
  d.push_back({"edge", 64, 4096, edge_rows(64 * 4096, 21), positive_weights(4096, 22)});
  d.push_back({"edge64", 64, 4096, edge_rows(64 * 4096, 23, 64), positive_weights(4096, 24)});
  d.push_back({"edge128", 64, 4096, edge_rows(64 * 4096, 25, 128), positive_weights(4096, 26)});
  // Short rows: an odd number of super-blocks (q4_K/q5_K pair them) and block counts that are
  // not a multiple of 16 lanes (groups of 64: 4, 12, 20, 3, 17).
  for (int64_t cols : {256, 768, 1280, 160, 544, 192, 1088}) {
    auto x = test::gaussian(7 * cols, 1.f, 30 + cols);
    for (int64_t i = 0; i < cols; ++i) x[i] = 0.f;  // one all-zero row
    d.push_back(
        {"cols" + std::to_string(cols), 7, cols, std::move(x), positive_weights(cols, 40 + cols)});
  }
  return d;
}

const std::vector<Dataset>& all_datasets() {
  static const std::vector<Dataset> d = datasets();
  return d;
}

// "" when equal, else the first differing row/block/byte.
std::string first_diff(const std::vector<uint8_t>& want, const std::vector<uint8_t>& got,
                       size_t row_bytes, size_t block_bytes) {
  if (want.size() != got.size())
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i] != got[i])
      return "row " + std::to_string(i / row_bytes) + " block " +
             std::to_string(i % row_bytes / block_bytes) + " byte " +
             std::to_string(i % row_bytes % block_bytes) + ": got " + std::to_string(got[i]) +
             " want " + std::to_string(want[i]);
  return "";
}

class FastQuant : public ::testing::TestWithParam<QuantType> {};

TEST_P(FastQuant, MatchesReferenceAtEveryIsaLevel) {
  const QuantType t = GetParam();
  const auto& info = quant_info(t);
  ASSERT_FALSE(all_datasets().empty());
  ASSERT_EQ(all_datasets()[0].name, "golden") << "missing " << golden_dir();
  for (const Dataset& ds : all_datasets()) {
    if (ds.cols % info.block_size != 0) continue;
    const size_t row_bytes = quant_row_bytes(t, ds.cols);
    for (const bool with_importance : {false, true}) {
      const float* imp = with_importance ? ds.importance.data() : nullptr;
      std::vector<uint8_t> want(row_bytes * ds.rows);
      for (int64_t r = 0; r < ds.rows; ++r)
        quantize_row(t, ds.x.data() + r * ds.cols, want.data() + r * row_bytes, ds.cols, imp);
      for (IsaLevel level : host_levels()) {
        IsaCap cap(level);
        EXPECT_EQ(has_fast_quantizer(t), level >= IsaLevel::kAvx512) << isa_name(level);
        std::vector<uint8_t> got(want.size(), 0xAB);
        for (int64_t r = 0; r < ds.rows; ++r)
          quantize_row_fast(t, ds.x.data() + r * ds.cols, got.data() + r * row_bytes, ds.cols, imp);
        EXPECT_EQ(first_diff(want, got, row_bytes, info.bytes_per_block), "")
            << info.name << " " << ds.name << (with_importance ? " importance" : "") << " at "
            << isa_name(level);
      }
    }
  }
}

TEST_P(FastQuant, GoldenBytes) {
  const QuantType t = GetParam();
  const auto& info = quant_info(t);
  if (info.family != QuantFamily::kGgmlK && info.family != QuantFamily::kGgmlLegacy) return;
  std::string stem(info.name);
  if (info.family == QuantFamily::kGgmlK) stem = stem.substr(0, 2) + "_K";  // q4k -> q4_K
  const auto want = read_bytes(golden_dir() + "/" + stem + ".q");
  const auto want_imatrix = read_bytes(golden_dir() + "/" + stem + ".imatrix.q");
  if (want.empty()) GTEST_SKIP() << "no golden file for " << stem;  // q8_1, q8_K: see below
  const auto x = read_f32(golden_dir() + "/input.f32");
  const auto w = read_f32(golden_dir() + "/weights.f32");
  ASSERT_EQ(x.size(), 16u * 4096);
  const size_t row_bytes = quant_row_bytes(t, 4096);
  for (const bool with_importance : {false, true}) {
    std::vector<uint8_t> got(row_bytes * 16);
    ThreadPool pool(2);
    quantize_rows(t, x.data(), got.data(), 16, 4096, with_importance ? w.data() : nullptr, &pool);
    // q8_K has no .imatrix file: it ignores importance, like q8_0 whose two files are equal.
    ASSERT_TRUE(!with_importance || !want_imatrix.empty() || !info.uses_importance) << stem;
    const auto& expect = with_importance && !want_imatrix.empty() ? want_imatrix : want;
    EXPECT_EQ(first_diff(expect, got, row_bytes, info.bytes_per_block), "")
        << stem << (with_importance ? ".imatrix" : "");
  }
}

INSTANTIATE_TEST_SUITE_P(Types, FastQuant, ::testing::ValuesIn(kFastTypes),
                         [](const auto& p) { return std::string(quant_info(p.param).name); });

TEST(FastQuantGolden, Q8_1AndQ8_KFiles) {
  const auto x = read_f32(golden_dir() + "/input.f32");
  ASSERT_EQ(x.size(), 16u * 4096);
  for (const auto& [t, file] :
       {std::pair{QuantType::kQ8_1, "/q8_1.ref.q"}, std::pair{QuantType::kQ8K, "/q8_K.q"}}) {
    const auto want = read_bytes(golden_dir() + file);
    const size_t row_bytes = quant_row_bytes(t, 4096);
    ASSERT_EQ(want.size(), row_bytes * 16) << file;
    std::vector<uint8_t> got(want.size());
    quantize_rows(t, x.data(), got.data(), 16, 4096, nullptr, nullptr);
    EXPECT_EQ(first_diff(want, got, row_bytes, quant_info(t).bytes_per_block), "") << file;
  }
}

TEST(FastQuant, OtherTypesFallBackToTheReference) {
  const auto x = test::gaussian(4 * 256, 1.f, 5);
  for (const auto& info : all_quant_types()) {
    if (in_fast_types(info.type)) continue;
    EXPECT_FALSE(has_fast_quantizer(info.type)) << info.name;
    const size_t bytes = quant_row_bytes(info.type, 1024);
    std::vector<uint8_t> want(bytes), got(bytes);
    quantize_row(info.type, x.data(), want.data(), 1024);
    quantize_row_fast(info.type, x.data(), got.data(), 1024);
    EXPECT_EQ(want, got) << info.name;
  }
}

TEST(FastQuant, RejectsRowsThatAreNotWholeBlocks) {
  std::vector<float> x(300, 1.f);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quantize_row_fast(QuantType::kQ4K, x.data(), out.data(), 300), Error);
  EXPECT_THROW(quantize_row_fast(QuantType::kQ4_0, x.data(), out.data(), 33), Error);
}

// The AVX-512 f32 -> e4m3 conversion against fp8::f32_to_e4m3. Rounding depends on the sign,
// exponent and top mantissa bits and on how the rest compares with half an e4m3 ulp, so every
// combination of the top 12 bits (sign, exponent, 3 mantissa bits; the e4m3-subnormal range
// rounds at mantissa bits 20..22, also inside them) with low 20 bits at and around 0, half and
// all-ones covers every rounding case of every binade, NaN payloads and infinities included;
// strided sweeps of all 2^32 patterns and of [2^-10, 2^-5] (the e4m3-subnormal range and its
// border, both signs) add the rest.
TEST(FastE4M3, MatchesReferenceOnEveryRoundingCase) {
  if (detected_isa() < IsaLevel::kAvx512) GTEST_SKIP() << "no AVX-512 on this host";
  std::vector<uint32_t> bits;
  for (uint32_t hi = 0; hi < 4096; ++hi)
    for (uint32_t lo : {0u, 1u, 2u, 0x3FFFFu, 0x40000u, 0x7FFFEu, 0x7FFFFu, 0x80000u, 0x80001u,
                        0x80002u, 0xC0000u, 0xFFFFEu, 0xFFFFFu})
      bits.push_back(hi << 20 | lo);
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 1009) bits.push_back(static_cast<uint32_t>(b));
  for (uint32_t b = 0x3A800000u; b <= 0x3D000000u; b += 13) {  // 2^-10 .. 2^-5
    bits.push_back(b);
    bits.push_back(b | 0x80000000u);
  }
  bits.push_back(0x43E00000u);  // 448
  bits.push_back(0x43DFFFFFu);  // just below 448
  bits.push_back(0x3C800000u);  // 2^-6, the smallest e4m3 normal
  std::vector<float> x(bits.size());
  std::memcpy(x.data(), bits.data(), bits.size() * sizeof(float));
  const int64_t n = static_cast<int64_t>(x.size()) - 5;  // a tail shorter than a vector
  std::vector<uint8_t> got(x.size(), 0xAB);
  fastq::avx512::f32_to_e4m3_row(x.data(), got.data(), n);
  size_t bad = 0;
  std::string first;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t want = fp8::f32_to_e4m3(x[i]);
    if (want != got[i] && bad++ == 0)
      first = "bits " + std::to_string(bits[i]) + ": got " + std::to_string(got[i]) + " want " +
              std::to_string(want);
  }
  EXPECT_EQ(bad, 0u) << first;
  for (size_t i = static_cast<size_t>(n); i < got.size(); ++i) EXPECT_EQ(got[i], 0xAB) << i;
}

TEST(DenseRowToF32, EveryHalfBitPatternAtEveryIsaLevel) {
  std::vector<uint16_t> h(65536 + 13);  // a tail shorter than a vector too
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i * 40503u);
  for (IsaLevel level : host_levels()) {
    IsaCap cap(level);
    for (QuantType t : {QuantType::kBF16, QuantType::kF16}) {
      std::vector<float> got(h.size());
      dense_row_to_f32(t, h.data(), got.data(), static_cast<int64_t>(h.size()));
      size_t bad = 0;
      for (size_t i = 0; i < h.size(); ++i) {
        const float want = t == QuantType::kBF16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
        bad += std::memcmp(&want, &got[i], 4) != 0;
      }
      EXPECT_EQ(bad, 0u) << quant_info(t).name << " at " << isa_name(level);
    }
  }
  std::vector<float> f = test::gaussian(100, 1.f, 3), g(100);
  dense_row_to_f32(QuantType::kF32, f.data(), g.data(), 100);
  EXPECT_EQ(f, g);
  EXPECT_THROW(dense_row_to_f32(QuantType::kQ4_0, f.data(), g.data(), 32), Error);
}

}  // namespace
}  // namespace insitu
