// Float -> small integer conversions with the results x86-64 gives for ggml's C casts.
//
// C leaves out-of-range float->int conversion undefined; on x86-64 (cvttss2si / cvtps2dq) an
// unrepresentable value (NaN, inf, |v| >= 2^31) becomes INT32_MIN, and a narrower cast keeps the
// low bits. ggml's reference code hits this for degenerate blocks (e.g. an f32-subnormal scale
// whose reciprocal overflows), so the emulation keeps our bytes identical there too.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace insitu::ggml {

// (int32_t)v: truncation toward zero.
inline int32_t trunc_to_i32(float v) {
  if (!(v > -2147483904.f && v < 2147483648.f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}
// (int8_t)v and (uint8_t)v as gcc compiles them: via int32, keeping the low byte.
inline int8_t trunc_to_i8(float v) {
  return static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(trunc_to_i32(v)) & 0xffu));
}
inline uint8_t trunc_to_u8(float v) {
  return static_cast<uint8_t>(static_cast<uint32_t>(trunc_to_i32(v)) & 0xffu);
}
// cvtps2dq of an already-rounded value.
inline int32_t cvt_to_i32(float v) { return trunc_to_i32(v); }

}  // namespace insitu::ggml
