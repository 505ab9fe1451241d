// src/serve/datatype.h — the Open Inference Protocol's datatype names ("FP32", "INT64", ...)
// and the engine's DType. BYTES has no DType (encoded images, classification strings); BF16 is
// refused in phase 1 (specs/serving.md 2.3), so it is not mapped either.
#pragma once

#include <optional>
#include <string_view>

#include "torchless/dtype.h"

namespace torchless::serve {

// "FP32" for kFloat32, ...; nullptr for a dtype the protocol cannot carry.
const char* oip_datatype(DType t);
// The DType of an OIP name (case-sensitive, as the protocol requires); nullopt for BYTES,
// BF16 and unknown names.
std::optional<DType> dtype_from_oip(std::string_view name);

}  // namespace torchless::serve
