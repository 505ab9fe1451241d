// float16 and bfloat16: storage types (bits only; arithmetic goes through float) and the
// conversions torch and ONNX agree on.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace torchless {

// Storage types of float16 and bfloat16 (bits only; arithmetic goes through float).
struct Half { uint16_t bits; };
struct BF16 { uint16_t bits; };

inline uint16_t half_from_float(float f) {  // c10::detail::fp16_ieee_from_fp32_value
  const float scale_to_inf = 0x1.0p+112f;
  const float scale_to_zero = 0x1.0p-110f;
  float base = (std::fabs(f) * scale_to_inf) * scale_to_zero;
  const uint32_t w = std::bit_cast<uint32_t>(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = std::bit_cast<float>((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = std::bit_cast<uint32_t>(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

inline float half_to_float(uint16_t h) {  // exact; NaN quieted, payload kept (c10's fp16_ieee_to_fp32_value)
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t man = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13) | (man ? 0x00400000u : 0);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = 113;
    while (!(man & 0x400u)) man <<= 1, --e;
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((man & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// Round to nearest even (c10::detail::round_to_nearest_even); NaN is the caller's to handle.
inline uint16_t bf16_round(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint32_t rounding_bias = ((u >> 16) & 1) + 0x7FFFu;
  return static_cast<uint16_t>((u + rounding_bias) >> 16);
}

inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

}  // namespace torchless
