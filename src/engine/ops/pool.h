// Pooling loops shared by AveragePool, MaxPool, LpPool and the Global* pools: each (n, c)
// plane of X [N, C, D...] is pooled independently over the window geometry of window.h.
#pragma once

#include <vector>

#include "engine/ops/window.h"

namespace torchless::engine {

// The window covering every spatial position at once (the Global* pools): out = [1, ...].
inline Window global_window(const std::vector<int64_t>& x) {
  if (x.size() < 3) fail(Error::Code::kInvalidArgument, "input must have rank >= 3, got " + shape_text(x));
  Window w;
  w.in.assign(x.begin() + 2, x.end());
  w.kernel = w.in;
  const size_t r = w.in.size();
  w.strides.assign(r, 1);
  w.dilations.assign(r, 1);
  w.pads_begin.assign(r, 0);
  w.pads_end.assign(r, 0);
  w.out.assign(r, 1);
  return w;
}

// Output 0 = Y [N, C, out...] with y[n, c, o] = f(plane, o) (a double, stored as T), where
// plane points at X[n, c] in T's calc type via load().
template <class List, class F>
void pool_planes(Kernel& k, const Window& w, F&& f) {
  const Tensor& x = k.in(0);
  std::vector<int64_t> shape{x.shape()[0], x.shape()[1]};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  dispatch(List{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out_uninit(0, x.dtype(), shape);
    const T* px = data<T>(x);
    T* py = mut<T>(y);
    const int64_t planes = shape[0] * shape[1], is = w.in_size(), os = w.out_size();
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t o = 0; o < os; ++o) py[p * os + o] = store<T>(f(px + p * is, o));
  });
}

}  // namespace torchless::engine
