// cast(): element type conversion with torch's exact rounding.
//
// Every element goes through one conversion function per (source, destination) pair,
// instantiated from the element types below, over the source's C-order runs. The rules are
// torch's (c10/util/TypeCast.h, Half.h, BFloat16.h):
//  - to float16: c10's fp16_ieee_from_fp32_value (round to nearest even, subnormals, overflow
//    to inf, NaN -> sign | 0x7E00); to bfloat16: c10's round_to_nearest_even, except that a
//    NaN becomes 0xFFFF as torch's x86 vector kernels write it (c10's scalar rule, 0x7FC0, is
//    used for float16 sources, a 0-dim tensor or a float64 tensor's last few elements; here
//    for float16 sources only). Both start from a
//    float: a double or an integer is first converted to float (as c10's Half and BFloat16
//    constructors take a float), so float64 -> float16 rounds twice, like torch.
//  - from float16/bfloat16: exact widening to float (a NaN is quieted), then as from float.
//  - same dtype: a plain copy of the bits (torch's .to() does not convert either).
//  - to bool: x != 0 (NaN is true). Integer to integer: wraps modulo 2^N (C++20 conversion).
//  - floating to integer: truncation toward zero, as torch's C cast. Out of range (NaN, inf,
//    beyond the target) is undefined behaviour in torch; here it is defined: truncate to
//    int64 (NaN -> 0, saturating at int64's limits), then wrap modulo 2^N to the target width
//    (what torch >= 2.1 does for uint8 on every platform).
//  - complex only to and from complex (complex64 <-> complex128 by parts).
#include <bit>
#include <cmath>
#include <complex>
#include <cstring>
#include <type_traits>

#include "core/check.h"
#include "core/half.h"
#include "torchless/convert.h"

namespace torchless {
namespace {

uint16_t bf16_from_float(float f) {  // c10's round_to_nearest_even, NaN as vectorised
  return std::isnan(f) ? 0xFFFF : bf16_round(f);
}

// Floating -> int64 with the defined out-of-range behaviour described at the top.
template <class F>
int64_t truncate_to_i64(F x) {
  if (std::isnan(x)) return 0;
  if (x >= static_cast<F>(9223372036854775808.0)) return INT64_MAX;
  if (x < static_cast<F>(-9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(x);
}

template <class T> constexpr bool is_reduced_v = std::is_same_v<T, Half> || std::is_same_v<T, BF16>;
template <class T> constexpr bool is_complex_v = false;
template <class T> constexpr bool is_complex_v<std::complex<T>> = true;

// Any non-complex element as a float (for the reduced types) or as itself.
template <class From>
auto widen(From v) {
  if constexpr (std::is_same_v<From, Half>) return half_to_float(v.bits);
  else if constexpr (std::is_same_v<From, BF16>) return bf16_to_float(v.bits);
  else return v;
}

template <class To, class From>
To convert_one(From v) {
  if constexpr (is_complex_v<To> || is_complex_v<From>) {
    return To(static_cast<typename To::value_type>(v.real()), static_cast<typename To::value_type>(v.imag()));
  } else if constexpr (std::is_same_v<From, Half> && std::is_same_v<To, BF16>) {
    const float f = widen(v);
    return BF16{std::isnan(f) ? uint16_t{0x7FC0} : bf16_from_float(f)};  // torch's scalar path
  } else if constexpr (is_reduced_v<From>) {
    return convert_one<To>(widen(v));
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{half_from_float(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BF16>) {
    return BF16{bf16_from_float(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return static_cast<To>(truncate_to_i64(v));
  } else {
    return static_cast<To>(v);
  }
}

// Converts the C-order elements of `src` into `out` (a buffer of numel To's).
template <class To, class From>
void convert_all(const Tensor& src, To* out) {
  src.for_each_chunk([&](const std::byte* p, size_t len) {
    const size_t n = len / sizeof(From);
    for (size_t i = 0; i < n; ++i) {
      From v;
      std::memcpy(&v, p + i * sizeof(From), sizeof(From));  // mapped data may be unaligned
      out[i] = convert_one<To>(v);
    }
    out += n;
  });
}

// Calls fn(T{}) with the element type of `t`; false for dtypes without arithmetic here.
template <class F>
bool visit(DType t, F&& fn) {
  switch (t) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kFloat64: fn(double{}); return true;
    case DType::kFloat16: fn(Half{}); return true;
    case DType::kBFloat16: fn(BF16{}); return true;
    case DType::kInt8: fn(int8_t{}); return true;
    case DType::kUInt8: fn(uint8_t{}); return true;
    case DType::kInt16: fn(int16_t{}); return true;
    case DType::kInt32: fn(int32_t{}); return true;
    case DType::kInt64: fn(int64_t{}); return true;
    case DType::kUInt16: fn(uint16_t{}); return true;
    case DType::kUInt32: fn(uint32_t{}); return true;
    case DType::kUInt64: fn(uint64_t{}); return true;
    case DType::kBool: fn(bool{}); return true;
    case DType::kComplex64: fn(std::complex<float>{}); return true;
    case DType::kComplex128: fn(std::complex<double>{}); return true;
    default: return false;
  }
}

}  // namespace

Result<Tensor> cast(const Tensor& t, DType to) {
  return guard("cast", "", [&] {
    const DType from = t.dtype();
    const auto unsupported = [&] {
      fail(Error::Code::kUnsupported,
           "no cast from " + std::string(dtype_name(from)) + " to " + std::string(dtype_name(to)));
    };
    if (dtype_is_complex(from) != dtype_is_complex(to)) unsupported();
    const uint64_t n = mul_u64(static_cast<uint64_t>(t.numel()), dtype_size(to));
    check_limit("tensor.max_bytes", kMaxMaterialisedBytes, n, "materialising the cast tensor");
    if (from == to) return unwrap(t.contiguous());  // (a view of t when already dense)
    Storage s = unwrap(Storage::allocate(n));
    bool done = false;
    visit(to, [&](auto to_v) {
      using To = decltype(to_v);
      done = visit(from, [&](auto from_v) {
        using From = decltype(from_v);
        if constexpr (is_complex_v<To> == is_complex_v<From>)
          convert_all<To, From>(t, reinterpret_cast<To*>(s.mutable_data()));
      });
    });
    if (!done) unsupported();
    return unwrap(Tensor::contiguous_over(std::move(s), to, t.shape()));
  });
}

}  // namespace torchless
