#include "core/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace insitu {
namespace {

uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Linux keeps AMX tile state disabled per process until requested.
bool request_amx_permission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtileData = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtileData) == 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (!osxsave) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_ok = (xcr0 & 0x6) == 0x6;
  const bool zmm_ok = (xcr0 & 0xe6) == 0xe6;
  const bool amx_ok = (xcr0 & (3ull << 17)) == (3ull << 17);
  __cpuid_count(7, 0, a, b, c, d);
  if (ymm_ok) f.avx2 = b & (1u << 5);
  if (zmm_ok) {
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vbmi = c & (1u << 1);
    f.avx512vbmi2 = c & (1u << 6);
    f.avx512vnni = c & (1u << 11);
    f.gfni = c & (1u << 8);
  }
  if (amx_ok) {
    f.amx_bf16 = d & (1u << 22);
    f.amx_tile = d & (1u << 24);
    f.amx_int8 = d & (1u << 25);
  }
  __cpuid_count(7, 1, a, b, c, d);
  if (ymm_ok) f.avx_vnni = a & (1u << 4);
  if (zmm_ok) f.avx512bf16 = a & (1u << 5);
  if (f.amx_tile && !request_amx_permission()) f.amx_tile = f.amx_int8 = f.amx_bf16 = false;
  return f;
}

IsaLevel env_cap() {
  const char* s = std::getenv("INSITU_FORCE_ISA");
  IsaLevel level = IsaLevel::kAmx;
  if (s && *s) parse_isa_name(s, &level);
  return level;
}

std::atomic<int> g_cap{-1};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

IsaLevel detected_isa() {
  const CpuFeatures& f = cpu_features();
  if (!(f.avx2 && f.fma && f.f16c)) return IsaLevel::kScalar;
  // The AVX-512 kernels also use byte permutes and selects (VBMI), GF(2) affine bit moves
  // (GFNI) and double shifts (VBMI2: codes that straddle two words): Cooper Lake has VNNI and
  // BF16 without them and takes the AVX2 kernels. Every CPU with AVX-512 BF16 and VBMI (Sapphire
  // Rapids on, Zen 4 on) has VBMI2.
  if (!(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni && f.avx512bf16 &&
        f.avx512vbmi && f.avx512vbmi2 && f.gfni))
    return IsaLevel::kAvx2;
  if (!(f.amx_tile && f.amx_int8 && f.amx_bf16)) return IsaLevel::kAvx512;
  return IsaLevel::kAmx;
}

IsaLevel active_isa() {
  int cap = g_cap.load(std::memory_order_relaxed);
  if (cap < 0) {
    cap = static_cast<int>(env_cap());
    g_cap.store(cap, std::memory_order_relaxed);
  }
  const int det = static_cast<int>(detected_isa());
  return static_cast<IsaLevel>(det < cap ? det : cap);
}

IsaLevel set_isa_cap(IsaLevel cap) {
  active_isa();  // make sure the env cap is loaded
  return static_cast<IsaLevel>(g_cap.exchange(static_cast<int>(cap)));
}

std::string_view isa_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar: return "scalar";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512: return "avx512";
    case IsaLevel::kAmx: return "amx";
  }
  return "?";
}

bool parse_isa_name(std::string_view name, IsaLevel* out) {
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAmx})
    if (isa_name(l) == name) {
      *out = l;
      return true;
    }
  return false;
}

}  // namespace insitu
