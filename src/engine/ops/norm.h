// Helpers shared by the normalization ops (BatchNormalization, InstanceNormalization,
// LayerNormalization, MeanVarianceNormalization, LRN): parameters read as doubles and writing
// doubles into a tensor of any float type.
#pragma once

#include <string>
#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

// Input i (any float type) as doubles; kInvalidArgument unless it holds `count` values
// (count < 0: any number).
inline std::vector<double> doubles_of(const Kernel& k, size_t i, int64_t count, const char* what) {
  const Tensor& t = k.in(i);
  if (count >= 0 && t.numel() != count)
    fail(Error::Code::kInvalidArgument,
         std::string(what) + " " + shape_text(t.shape()) + " must hold " + std::to_string(count) + " values");
  std::vector<double> v(static_cast<size_t>(t.numel()));
  dispatch(FloatTypes{}, t.dtype(), k.node, [&]<class T>() {
    for (size_t j = 0; j < v.size(); ++j) v[j] = load(data<T>(t)[j]);
  });
  return v;
}

// A new output i of `dtype` and `shape` holding the values v.
inline void out_doubles(Kernel& k, size_t i, DType dtype, const std::vector<int64_t>& shape,
                        const std::vector<double>& v) {
  Tensor& t = k.out(i, dtype, shape);
  dispatch(FloatTypes{}, dtype, k.node, [&]<class T>() {
    T* p = mut<T>(t);
    for (size_t j = 0; j < v.size(); ++j) p[j] = store<T>(v[j]);
  });
}

}  // namespace torchless::engine
