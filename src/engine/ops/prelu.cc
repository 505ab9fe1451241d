// PRelu: x for x >= 0, slope * x otherwise; the output has x's shape. Opset 7+: slope broadcasts
// to x in one direction (numpy rules). Opsets 1 and 6: slope has one element or x's shape, or (as
// PyTorch exports it) one value per channel, dim 1 of x. 9 adds integer types, 16 bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void prelu_run(Kernel& k) {
  const Tensor& x = k.in(0);
  Tensor slope = k.in(1);
  if (k.node.version < 7 && x.ndim() >= 2 && slope.ndim() == 1 && slope.shape()[0] == x.shape()[1] &&
      slope.shape() != x.shape()) {
    std::vector<int64_t> shape(x.ndim() - 1, 1);
    shape[0] = slope.shape()[0];
    slope = reshaped(slope, shape);
  }
  if (broadcast_shapes({x.shape(), slope.shape()}, k.node) != x.shape())
    fail(Error::Code::kInvalidArgument,
         "slope of shape " + shape_text(slope.shape()) + " does not broadcast to X of shape " + shape_text(x.shape()));
  binary<NumericTypes>(k, x, slope, [](auto a, auto s) {
    if constexpr (std::is_unsigned_v<decltype(a)>)
      return a;
    else
      return a < decltype(a)(0) ? s * a : a;
  });
}

}  // namespace torchless::engine
