// Squeeze: the input viewed without the listed size-1 axes, or without every size-1 axis when
// none are listed (no copy). axes is an attribute before opset 13, an optional input from it.
#include "engine/ops/movement.h"

namespace torchless::engine {

void squeeze_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t rank = static_cast<int64_t>(x.ndim());
  bool given = false;
  const std::vector<int64_t> axes = norm_axes(attr_or_input(k, "axes", 1, 13, &given), rank, k.node);
  std::vector<bool> drop(x.ndim(), false);
  if (!given)
    for (size_t d = 0; d < x.ndim(); ++d) drop[d] = x.shape()[d] == 1;
  for (int64_t a : axes) {
    if (x.shape()[static_cast<size_t>(a)] != 1)
      fail(Error::Code::kInvalidArgument, "axis " + std::to_string(a) + " of " + shape_text(x.shape()) + " is not 1");
    drop[static_cast<size_t>(a)] = true;
  }
  std::vector<int64_t> shape;
  for (size_t d = 0; d < x.ndim(); ++d)
    if (!drop[d]) shape.push_back(x.shape()[d]);
  k.set_out(0, reshaped(x, shape));
}

}  // namespace torchless::engine
