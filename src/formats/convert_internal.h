// The transform half of convert(), separate from writing so it can be tested on its own.
#pragma once

#include <string>

#include "torchless/convert.h"

namespace torchless {

// Loads `in`'s state dict (options.load), removes options.strip_prefix, keeps the names
// matching options.only and casts floating tensors when options.cast_floats. Names that
// become equal are refused (kInvalidArgument). A tensor listed under several names (tied
// weights) is cast once and stays one tensor.
Result<StateDict> prepare(const std::string& in, const ConvertOptions& options);

}  // namespace torchless
