// Variadic elementwise ops (Max, Min, Sum, Mean): one or more inputs of one type, all broadcast
// numpy-style to a common shape (opset 8+; before 8 the shapes had to be equal, which is a special
// case). The output is folded left to right, each step stored in the element type as numpy does.
#pragma once

#include "engine/kernel.h"

namespace torchless::engine {

// out = finish(f(...f(f(x0, x1), x2)..., x_{n-1}), n), f and finish on calc_t values.
template <class List, class F, class G>
void variadic(Kernel& k, F f, G finish) {
  const size_t n = k.num_inputs();
  if (n == 0) fail(Error::Code::kInvalidArgument, "needs at least one input");
  const DType dtype = k.in(0).dtype();
  std::vector<std::vector<int64_t>> shapes;
  for (size_t j = 0; j < n; ++j) {
    const Tensor& t = k.in(j);
    if (t.dtype() != dtype)
      fail(Error::Code::kInvalidArgument, "input " + std::to_string(j) + " is " + std::string(dtype_name(t.dtype())) +
                                              ", input 0 is " + std::string(dtype_name(dtype)));
    shapes.push_back(t.shape());
  }
  const std::vector<int64_t> shape = broadcast_shapes(shapes, k.node);
  dispatch(List{}, dtype, k.node, [&]<class T>() {
    Tensor& y = k.out(0, dtype, shape);
    T* py = mut<T>(y);
    const T* p0 = data<T>(k.in(0));
    for_each_broadcast<1>(shape, {broadcast_strides(shapes[0], shape)}, [&](int64_t i, int64_t o) { py[i] = p0[o]; });
    for (size_t j = 1; j < n; ++j) {
      const T* pj = data<T>(k.in(j));
      for_each_broadcast<1>(shape, {broadcast_strides(shapes[j], shape)},
                            [&](int64_t i, int64_t o) { py[i] = store<T>(f(load(py[i]), load(pj[o]))); });
    }
    const int64_t total = numel(shape);
    for (int64_t i = 0; i < total; ++i) py[i] = store<T>(finish(load(py[i]), n));
  });
}

}  // namespace torchless::engine
