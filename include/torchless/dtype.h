// torchless/dtype.h — element types, as torch names them.
//
// Names are torch's (`float32`, `bfloat16`, `complex64`, `float8_e4m3fn`, ...); they are the
// names the CLI prints and accepts. Quantized dtypes are listed so files that hold them can be
// inspected; no arithmetic is defined on them here.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace torchless {

enum class DType : unsigned char {
  kFloat32, kFloat64, kFloat16, kBFloat16,
  kInt8, kUInt8, kInt16, kInt32, kInt64, kBool,
  kComplex64, kComplex128,
  kUInt16, kUInt32, kUInt64, kComplex32,
  kFloat8E4M3FN, kFloat8E5M2, kFloat8E4M3FNUZ, kFloat8E5M2FNUZ, kFloat8E8M0FNU,
  kQInt8, kQUInt8, kQInt32,
};
inline constexpr int kNumDTypes = static_cast<int>(DType::kQInt32) + 1;

// Bytes per element (1 for bool and every 8-bit type).
size_t dtype_size(DType t);
// torch's name: "float32", "int64", "float8_e4m3fn", "qint8", ...
std::string_view dtype_name(DType t);
// Inverse of dtype_name; also accepts torch's aliases ("float", "half", "long", "cfloat", ...).
std::optional<DType> dtype_from_name(std::string_view name);
// Address alignment an element needs: its size, at most 8.
size_t dtype_alignment(DType t);
bool dtype_is_floating(DType t);  // float16/32/64, bfloat16, float8 variants
bool dtype_is_complex(DType t);

}  // namespace torchless
