#include "torchless/dtype.h"

#include <array>

namespace torchless {
namespace {

struct Info {
  DType type;
  std::string_view name;
  unsigned char size;
  bool floating, complex;
};
constexpr std::array<Info, kNumDTypes> kInfo{{
    {DType::kFloat32, "float32", 4, true, false},
    {DType::kFloat64, "float64", 8, true, false},
    {DType::kFloat16, "float16", 2, true, false},
    {DType::kBFloat16, "bfloat16", 2, true, false},
    {DType::kInt8, "int8", 1, false, false},
    {DType::kUInt8, "uint8", 1, false, false},
    {DType::kInt16, "int16", 2, false, false},
    {DType::kInt32, "int32", 4, false, false},
    {DType::kInt64, "int64", 8, false, false},
    {DType::kBool, "bool", 1, false, false},
    {DType::kComplex64, "complex64", 8, false, true},
    {DType::kComplex128, "complex128", 16, false, true},
    {DType::kUInt16, "uint16", 2, false, false},
    {DType::kUInt32, "uint32", 4, false, false},
    {DType::kUInt64, "uint64", 8, false, false},
    {DType::kComplex32, "complex32", 4, false, true},
    {DType::kFloat8E4M3FN, "float8_e4m3fn", 1, true, false},
    {DType::kFloat8E5M2, "float8_e5m2", 1, true, false},
    {DType::kFloat8E4M3FNUZ, "float8_e4m3fnuz", 1, true, false},
    {DType::kFloat8E5M2FNUZ, "float8_e5m2fnuz", 1, true, false},
    {DType::kFloat8E8M0FNU, "float8_e8m0fnu", 1, true, false},
    {DType::kQInt8, "qint8", 1, false, false},
    {DType::kQUInt8, "quint8", 1, false, false},
    {DType::kQInt32, "qint32", 4, false, false},
}};

constexpr bool table_in_enum_order() {
  for (int i = 0; i < kNumDTypes; ++i)
    if (static_cast<int>(kInfo[i].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order());

struct Alias {
  std::string_view name;
  DType type;
};
constexpr Alias kAliases[] = {
    {"float", DType::kFloat32},   {"double", DType::kFloat64},   {"half", DType::kFloat16},
    {"long", DType::kInt64},      {"int", DType::kInt32},        {"short", DType::kInt16},
    {"cfloat", DType::kComplex64}, {"cdouble", DType::kComplex128}, {"chalf", DType::kComplex32},
};

const Info& info(DType t) { return kInfo[static_cast<int>(t)]; }

}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }
size_t dtype_alignment(DType t) { return info(t).size < 8 ? info(t).size : 8; }
bool dtype_is_floating(DType t) { return info(t).floating; }
bool dtype_is_complex(DType t) { return info(t).complex; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const Info& i : kInfo)
    if (i.name == name) return i.type;
  for (const Alias& a : kAliases)
    if (a.name == name) return a.type;
  return std::nullopt;
}

}  // namespace torchless
