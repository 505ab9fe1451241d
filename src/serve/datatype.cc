#include "serve/datatype.h"

namespace torchless::serve {
namespace {

struct Pair {
  DType dtype;
  const char* name;
};
constexpr Pair kPairs[] = {
    {DType::kBool, "BOOL"},     {DType::kUInt8, "UINT8"},   {DType::kUInt16, "UINT16"},
    {DType::kUInt32, "UINT32"}, {DType::kUInt64, "UINT64"}, {DType::kInt8, "INT8"},
    {DType::kInt16, "INT16"},   {DType::kInt32, "INT32"},   {DType::kInt64, "INT64"},
    {DType::kFloat16, "FP16"},  {DType::kFloat32, "FP32"},  {DType::kFloat64, "FP64"},
};

}  // namespace

const char* oip_datatype(DType t) {
  for (const Pair& p : kPairs)
    if (p.dtype == t) return p.name;
  return nullptr;
}

std::optional<DType> dtype_from_oip(std::string_view name) {
  for (const Pair& p : kPairs)
    if (name == p.name) return p.dtype;
  return std::nullopt;
}

}  // namespace torchless::serve
