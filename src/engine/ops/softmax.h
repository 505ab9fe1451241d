// The axis handling shared by Softmax, LogSoftmax and Hardmax: before opset 13 the input is
// coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (axis default 1) and each row is one
// group; from 13 the groups run along the single `axis` (default -1).
#pragma once

#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

// Output 0 (X's type and shape): f(row) transforms each group, read into doubles, in place.
template <class F>
void softmax_rows(Kernel& k, F&& f) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  const auto rank = static_cast<int64_t>(xs.size());
  const bool coerce = k.node.version < 13;
  const int64_t axis = norm_axis(k.node.attr_int("axis", coerce ? 1 : -1), rank, k.node);
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : d == axis || coerce ? n : inner) *= xs[d];
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    T* py = mut<T>(k.out(0, x.dtype(), xs));
    if (x.numel() == 0) return;
    std::vector<double> row(static_cast<size_t>(n));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t base = o * n * inner + j;
        for (int64_t i = 0; i < n; ++i) row[i] = load(px[base + i * inner]);
        f(row);
        for (int64_t i = 0; i < n; ++i) py[base + i * inner] = store<T>(row[i]);
      }
  });
}

}  // namespace torchless::engine
