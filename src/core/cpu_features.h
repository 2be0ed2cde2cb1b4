// Run-time CPU feature detection and the ISA level kernels dispatch on. Detected once.
// INSITU_FORCE_ISA=scalar|avx2|avx512|amx (environment) caps the level, so tests and
// benchmarks can run every lower path on a capable host.
#pragma once

#include <string_view>

namespace insitu {

enum class IsaLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avx512vbmi = false, avx512vbmi2 = false,
       avx_vnni = false;
  bool gfni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
};

const CpuFeatures& cpu_features();
// Highest level the hardware (and OS) supports.
IsaLevel detected_isa();
// Level kernels should use: detected_isa() capped by INSITU_FORCE_ISA or set_isa_cap().
IsaLevel active_isa();
// Caps the active level programmatically (tests); returns the previous cap.
IsaLevel set_isa_cap(IsaLevel cap);
std::string_view isa_name(IsaLevel level);
bool parse_isa_name(std::string_view name, IsaLevel* out);

}  // namespace insitu
