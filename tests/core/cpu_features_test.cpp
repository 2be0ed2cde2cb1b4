// The ISA level promises every instruction set its kernels use: a level is never reported
// without the features behind it (the AVX-512 kernels also need VBMI byte permutes, VBMI2
// double shifts and GFNI bit moves), and INSITU_FORCE_ISA / set_isa_cap only ever lower it.
#include "core/cpu_features.h"

#include <gtest/gtest.h>

namespace insitu {
namespace {

TEST(CpuFeatures, LevelImpliesItsFeatures) {
  const CpuFeatures& f = cpu_features();
  const IsaLevel level = detected_isa();
  if (level >= IsaLevel::kAvx2) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c);
  }
  if (level >= IsaLevel::kAvx512) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
    EXPECT_TRUE(f.avx512vnni && f.avx512bf16);
    EXPECT_TRUE(f.avx512vbmi) << "vpermb / vpmultishiftqb in the AVX-512 kernels";
    EXPECT_TRUE(f.gfni) << "vgf2p8affineqb in the AVX-512 kernels";
    EXPECT_TRUE(f.avx512vbmi2) << "vpshrdd in the AFQ row-group kernel";
  }
  if (level >= IsaLevel::kAmx) {
    EXPECT_TRUE(f.amx_tile && f.amx_int8 && f.amx_bf16);
  }
}

TEST(CpuFeatures, CapOnlyLowers) {
  const IsaLevel detected = detected_isa();
  for (IsaLevel cap : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAmx}) {
    const IsaLevel previous = set_isa_cap(cap);
    EXPECT_EQ(active_isa(), cap < detected ? cap : detected);
    set_isa_cap(previous);
  }
}

TEST(CpuFeatures, IsaNamesRoundTrip) {
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAmx}) {
    IsaLevel parsed = IsaLevel::kScalar;
    ASSERT_TRUE(parse_isa_name(isa_name(l), &parsed)) << isa_name(l);
    EXPECT_EQ(parsed, l);
  }
  IsaLevel untouched = IsaLevel::kAvx2;
  EXPECT_FALSE(parse_isa_name("avx1024", &untouched));
  EXPECT_EQ(untouched, IsaLevel::kAvx2);
}

}  // namespace
}  // namespace insitu
