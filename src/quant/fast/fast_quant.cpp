// Dispatch of the fast quantizers. Compiled for the x86-64 baseline: it only picks a function.
#include "quant/fast/fast_quant.h"

#include <array>
#include <cstring>
#include <string>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/fast/x86/avx512/kernels.h"

namespace insitu {
namespace {

// AVX-512 kernel per type, nullptr where the reference is used at every level.
std::array<QuantizeRowFn, static_cast<size_t>(QuantType::kCount)> make_avx512_table() {
  namespace k = fastq::avx512;
  std::array<QuantizeRowFn, static_cast<size_t>(QuantType::kCount)> t{};
  auto set = [&t](QuantType q, QuantizeRowFn f) { t[static_cast<size_t>(q)] = f; };
  set(QuantType::kQ4_0, k::quantize_q4_0);
  set(QuantType::kQ4_1, k::quantize_q4_1);
  set(QuantType::kQ5_0, k::quantize_q5_0);
  set(QuantType::kQ5_1, k::quantize_q5_1);
  set(QuantType::kQ8_0, k::quantize_q8_0);
  set(QuantType::kQ8_1, k::quantize_q8_1);
  set(QuantType::kQ2K, k::quantize_q2_K);
  set(QuantType::kQ3K, k::quantize_q3_K);
  set(QuantType::kQ4K, k::quantize_q4_K);
  set(QuantType::kQ5K, k::quantize_q5_K);
  set(QuantType::kQ6K, k::quantize_q6_K);
  set(QuantType::kQ8K, k::quantize_q8_K);
  set(QuantType::kHqq4, k::quantize_hqq4);
  set(QuantType::kHqq8, k::quantize_hqq8);
  set(QuantType::kMxfp4, k::quantize_mxfp4);
  set(QuantType::kAfq2, k::quantize_afq2);
  set(QuantType::kAfq3, k::quantize_afq3);
  set(QuantType::kAfq4, k::quantize_afq4);
  set(QuantType::kAfq6, k::quantize_afq6);
  set(QuantType::kAfq8, k::quantize_afq8);
  set(QuantType::kFp8, k::quantize_fp8);
  set(QuantType::kF8Q8, k::quantize_f8q8);
  return t;
}

const auto kAvx512Table = make_avx512_table();

QuantizeRowFn fast_fn(QuantType t) {
  if (t >= QuantType::kCount || active_isa() < IsaLevel::kAvx512) return nullptr;
  return kAvx512Table[static_cast<size_t>(t)];
}

}  // namespace

bool has_fast_quantizer(QuantType t) {
  return fast_fn(t) != nullptr;
}

void quantize_row_fast(QuantType t, const float* x, void* out, int64_t n, const float* importance) {
  const QuantizeRowFn f = fast_fn(t);
  // The reference path also validates n and reports errors in the registry's words.
  if (f == nullptr || n <= 0 || n % quant_info(t).block_size != 0) {
    quantize_row(t, x, out, n, importance);
    return;
  }
  f(x, out, n, importance);
}

void dense_row_to_f32(QuantType t, const void* in, float* out, int64_t n) {
  const bool vec = active_isa() >= IsaLevel::kAvx512;
  const auto* p16 = static_cast<const uint16_t*>(in);
  switch (t) {
    case QuantType::kF32: std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float)); return;
    case QuantType::kBF16:
      if (vec) return fastq::avx512::bf16_to_f32_row(p16, out, n);
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p16[i]);
      return;
    case QuantType::kF16:
      if (vec) return fastq::avx512::f16_to_f32_row(p16, out, n);
      for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(p16[i]);
      return;
    default:
      throw Error(ErrorCode::kInvalidArgument,
                  "dense_row_to_f32: " + std::string(quant_info(t).name) + " is not a dense type");
  }
}

}  // namespace insitu
