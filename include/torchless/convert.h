// torchless/convert.h — dtype casts, checkpoint conversion and numeric comparison.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "torchless/error.h"
#include "torchless/load.h"
#include "torchless/save.h"
#include "torchless/tensor.h"

namespace torchless {

// A new contiguous tensor of `to` holding `t`'s values, rounded exactly as torch's .to()
// (round-to-nearest-even for float16/bfloat16, NaN kept NaN).
Result<Tensor> cast(const Tensor& t, DType to);

struct ConvertOptions {
  SaveOptions save;            // output format (from --to or the output's extension), shards
  LoadOptions load;            // key, strip_prefix (applied to the state dict); CRCs always verified
  std::string strip_prefix;    // remove this exact prefix from every name that has it ("" = none)
  std::string only;            // ECMAScript regex: keep the tensors whose name matches ("" = all)
  bool cast_floats = false;    // cast floating tensors to `dtype`; other tensors are kept
  DType dtype = DType::kFloat32;
  // Called after each tensor is prepared with (bytes done, bytes in all), for a progress bar.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Reads `in` (any format the readers accept), extracts the model's state dict, applies the
// options and writes `out`. Tensors shared by several names stay shared in torch output.
Status convert(const std::string& in, const std::string& out, const ConvertOptions& options = {});

struct DiffOptions {
  double rtol = 1e-5;  // torch.allclose's defaults
  double atol = 1e-8;
};

// One name's comparison. `status` is "equal", "different" (values outside tolerance),
// "dtype" / "shape" (mismatch), "only_a" / "only_b" (missing on one side).
struct TensorDiff {
  std::string name;
  std::string status;
  double max_abs = 0, max_rel = 0;  // over all elements, for same dtype and shape
};

struct DiffReport {
  std::vector<TensorDiff> tensors;  // in A's order, then B's extra names
  bool equal = true;                // every name equal within tolerance, none missing
};

// Compares two state dicts element by element (|a - b| <= atol + rtol * |b|, NaN == NaN).
Result<DiffReport> diff(const StateDict& a, const StateDict& b, const DiffOptions& options = {});

}  // namespace torchless
