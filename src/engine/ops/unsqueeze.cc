// Unsqueeze: the input viewed with size-1 axes inserted (no copy). axes refer to the output
// rank and may be negative or unsorted; an attribute before opset 13, an input from it.
#include "engine/ops/movement.h"

namespace torchless::engine {

void unsqueeze_run(Kernel& k) {
  const Tensor& x = k.in(0);
  bool given = false;
  std::vector<int64_t> axes = attr_or_input(k, "axes", 1, 13, &given);
  if (!given) fail(Error::Code::kInvalidArgument, "axes are missing");
  const int64_t rank = static_cast<int64_t>(x.ndim() + axes.size());
  axes = norm_axes(std::move(axes), rank, k.node);
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t a : axes) inserted[static_cast<size_t>(a)] = true;
  std::vector<int64_t> shape;
  size_t src = 0;
  for (size_t d = 0; d < inserted.size(); ++d) shape.push_back(inserted[d] ? 1 : x.shape()[src++]);
  k.set_out(0, reshaped(x, shape));
}

}  // namespace torchless::engine
