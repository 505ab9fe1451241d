// src/serve/tensor_json.h — JSON numbers into typed tensors (simdjson DOM, parsed in place),
// and tensors back into JSON.
//
// Both protocols send tensors as JSON arrays, flat (row-major) or nested to the full rank.
// Each element is parsed by simdjson to a correctly rounded double (or an exact integer) and
// converted to the input's dtype with round-to-nearest-even, the path torch.tensor(list) takes,
// so the model sees the bits the FastAPI app would give it. Integer dtypes take integral
// numbers in range; BOOL takes true/false. Nothing is written through an intermediate vector.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "serve/json_writer.h"
#include "torchless/dtype.h"
#include "torchless/tensor.h"

namespace torchless::serve {

// Why an array could not become a tensor. `path` is the index path of the offending element
// (for `loc` in /predict's errors).
struct JsonTensorError {
  enum Kind { kShape, kNotNumber, kNotInteger, kNotBool } kind = kShape;
  std::vector<int64_t> path;
  std::string message;
};

// The shape of nested arrays, read along the first elements ([[1,2],[3,4]] -> [2, 2]); a
// number ends it. Raggedness is found later, by fill_tensor.
std::vector<int64_t> nested_shape(simdjson::dom::element e);

// "[1, 3, 224, 224]"
std::string shape_string(std::span<const int64_t> shape);

// Writes the elements of `data` into `out` (numel(shape) elements of `dtype`). `data` is
// either flat with exactly numel(shape) numbers, or nested exactly as `shape`.
bool fill_tensor(simdjson::dom::array data, DType dtype, std::span<const int64_t> shape, std::byte* out,
                 JsonTensorError& err);

// A new contiguous tensor of `shape` (numel checked by the caller against the request limit).
Result<Tensor> make_tensor(DType dtype, std::vector<int64_t> shape);

// Writes a tensor's values: nested like tensor.tolist() (a 0-d tensor is its one value) or
// flat. FP32 per `style`, FP64 and FP16 as Python's repr of the double, integers exactly, BOOL
// as true/false; NaN and infinities as null (JsonWriter::nonfinite() counts them).
void write_tensor_json(JsonWriter& w, const Tensor& t, bool nested, F32Style style);

// `json` with every integer literal too long for 64 bits written as a float ("N" -> "N.0"),
// or nullopt when there is none. simdjson refuses such literals (BIGINT_ERROR); Python reads
// them, and a float input gets their correctly rounded value either way.
std::optional<std::string> widen_big_integers(std::string_view json);

// A thread's reusable simdjson parser, limited to `max_depth` levels of nesting.
simdjson::dom::parser& thread_parser(size_t max_depth);

}  // namespace torchless::serve
