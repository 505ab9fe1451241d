// CumSum: running sums along the axis given as a scalar input; exclusive=1 leaves out the
// element itself (the first sum is 0), reverse=1 runs from the end. Floats accumulate in
// double, integers wrap.
#include "engine/ops/movement.h"

namespace torchless::engine {

void cum_sum_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t> axis_in = k.ints(1);
  if (axis_in.size() != 1) fail(Error::Code::kInvalidArgument, "axis must be one value");
  if (x.ndim() == 0) fail(Error::Code::kInvalidArgument, "CumSum needs rank >= 1");
  const size_t axis = static_cast<size_t>(norm_axis(axis_in[0], static_cast<int64_t>(x.ndim()), k.node));
  const bool exclusive = k.node.attr_int("exclusive", 0) != 0;
  const bool reverse = k.node.attr_int("reverse", 0) != 0;
  const int64_t dim = x.shape()[axis];
  const int64_t outer = span_size(x.shape(), 0, axis);
  const int64_t inner = span_size(x.shape(), axis + 1, x.ndim());
  Tensor& y = k.out(0, x.dtype(), x.shape());
  dispatch(NumericTypes{}, x.dtype(), k.node, [&]<class T>() {
    using Acc = std::conditional_t<is_float_v<T>, double, uint64_t>;
    const T* src = data<T>(x);
    T* dst = mut<T>(y);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        Acc acc = 0;
        for (int64_t s = 0; s < dim; ++s) {
          const int64_t t = reverse ? dim - 1 - s : s;
          const int64_t at = (o * dim + t) * inner + i;
          const Acc v = static_cast<Acc>(load(src[at]));
          if (!exclusive) acc += v;
          dst[at] = store<T>(acc);
          if (exclusive) acc += v;
        }
      }
  });
}

}  // namespace torchless::engine
