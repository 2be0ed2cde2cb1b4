// The registry's backends column (reference §3.1, §3.8) and the messages built from it.
#include <gtest/gtest.h>

#include <string>

#include "quant/backend.h"
#include "quant/policy/quant_value.h"
#include "quant/registry.h"

namespace insitu {
namespace {

constexpr Backend kBackends[] = {Backend::kCpu, Backend::kCuda, Backend::kMetal};

TEST(Backends, EveryRowRunsOnCpuAndDenseRowsRunEverywhere) {
  for (const auto& row : all_quant_types()) {
    EXPECT_TRUE(quant_supported_on(row.type, Backend::kCpu)) << row.name;
    EXPECT_EQ(row.backends & ~kOnAll, 0) << row.name << ": bits outside the known backends";
    if (quant_is_dense(row.type)) {
      EXPECT_EQ(row.backends, kOnAll) << row.name;
    }
  }
}

TEST(Backends, ColumnMatchesTheReference) {
  // f8q8: the reference's layer rejects any device but the CPU.
  EXPECT_EQ(quant_info(QuantType::kF8Q8).backends, kOnCpu);
  // q8_1 and q8k: rejected for CUDA ISQ, fine elsewhere.
  for (QuantType t : {QuantType::kQ8_1, QuantType::kQ8K}) {
    EXPECT_FALSE(quant_supported_on(t, Backend::kCuda)) << quant_info(t).name;
    EXPECT_TRUE(quant_supported_on(t, Backend::kMetal)) << quant_info(t).name;
  }
  // Everything else runs on all three.
  int everywhere = 0;
  for (const auto& row : all_quant_types()) everywhere += row.backends == kOnAll;
  EXPECT_EQ(everywhere, static_cast<int>(QuantType::kCount) - 3);
}

// The plan derives types from the requested one (sensitive-tensor promotion, shape fallback;
// the K-quant mixes only raise K-quants to q4k..q6k/q8_0). Checking the requested type against
// the device is enough only if every derived type runs wherever its source does.
TEST(Backends, DerivedTypesRunWhereverTheirSourceDoes) {
  for (const auto& row : all_quant_types()) {
    for (Backend b : kBackends) {
      if (!quant_supported_on(row.type, b)) continue;
      const QuantType promoted = promote_for_sensitive_tensor(row.type);
      EXPECT_TRUE(quant_supported_on(promoted, b))
          << row.name << " -> " << quant_info(promoted).name << " on " << backend_name(b);
      for (auto f = fallback_for_shape(row.type); f; f = fallback_for_shape(*f))
        EXPECT_TRUE(quant_supported_on(*f, b))
            << row.name << " falls back to " << quant_info(*f).name << " on " << backend_name(b);
    }
  }
  for (QuantType t : {QuantType::kQ4K, QuantType::kQ5K, QuantType::kQ6K, QuantType::kQ8_0})
    EXPECT_EQ(quant_info(t).backends, kOnAll) << quant_info(t).name;
}

TEST(Backends, MessagesListBackendsAndTypes) {
  EXPECT_EQ(quant_backend_names(QuantType::kF8Q8), "cpu");
  EXPECT_EQ(quant_backend_names(QuantType::kQ8K), "cpu, metal");
  EXPECT_EQ(quant_backend_names(QuantType::kQ4K), "cpu, cuda, metal");
  const std::string cuda = quant_type_names_on(Backend::kCuda);
  EXPECT_EQ(cuda.rfind("q4_0, q4_1, q5_0, q5_1, q8_0, q2k, ", 0), 0u) << cuda;  // q8_1 skipped
  EXPECT_EQ(cuda.find("q8_1"), std::string::npos) << cuda;
  EXPECT_EQ(cuda.find("q8k"), std::string::npos) << cuda;
  EXPECT_EQ(cuda.find("f8q8"), std::string::npos) << cuda;
  EXPECT_EQ(cuda.find("bf16"), std::string::npos) << "dense types are not quantization choices";
  EXPECT_NE(quant_type_names_on(Backend::kCpu).find("f8q8"), std::string::npos);
}

TEST(Backends, NamesRoundTripAndOnlyCpuIsBuilt) {
  for (Backend b : kBackends) EXPECT_EQ(parse_backend(backend_name(b)), b);
  EXPECT_FALSE(parse_backend("tpu").has_value());
  EXPECT_FALSE(parse_backend("CUDA").has_value());
  EXPECT_TRUE(backend_built(Backend::kCpu));
  EXPECT_FALSE(backend_built(Backend::kCuda));
  EXPECT_FALSE(backend_built(Backend::kMetal));
}

}  // namespace
}  // namespace insitu
