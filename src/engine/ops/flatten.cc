// Flatten: the input viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] (no copy). axis
// defaults to 1 and may equal the rank; negative axes from opset 11.
#include "engine/ops/movement.h"

namespace torchless::engine {

void flatten_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t rank = static_cast<int64_t>(x.ndim());
  int64_t axis = k.node.attr_int("axis", 1);
  if (axis < (k.node.version < 11 ? 0 : -rank) || axis > rank)
    fail(Error::Code::kInvalidArgument,
         "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  const size_t a = static_cast<size_t>(axis);
  k.set_out(0, reshaped(x, {span_size(x.shape(), 0, a), span_size(x.shape(), a, x.ndim())}));
}

}  // namespace torchless::engine
