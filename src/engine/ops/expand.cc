// Expand: the input broadcast (numpy rules, both ways) with `shape`; a 1 in shape keeps the
// input's dimension, so a smaller target never shrinks it.
#include "engine/ops/movement.h"

namespace torchless::engine {

void expand_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t> target = k.ints(1);
  for (int64_t d : target)
    if (d < 0) fail(Error::Code::kInvalidArgument, "shape " + shape_text(target) + " has a negative dimension");
  const std::vector<int64_t> shape = broadcast_shapes({x.shape(), target}, k.node);
  Tensor& y = k.out(0, x.dtype(), shape);
  strided_copy(bytes(y), x.data(), elem_size(x), shape, broadcast_strides(x.shape(), shape));
}

}  // namespace torchless::engine
