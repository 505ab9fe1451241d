// Reshape: the input viewed with another shape (no copy). A 0 copies the input's dimension at
// that position (unless allowzero=1, opset 14, where 0 is a real 0); one -1 is inferred from
// the element count. Opset 1 takes the shape as an attribute, 5+ as an input.
#include "engine/ops/movement.h"

namespace torchless::engine {

void reshape_run(Kernel& k) {
  const Tensor& x = k.in(0);
  std::vector<int64_t> shape = k.node.version < 5 ? k.node.attr_ints("shape") : k.ints(1);
  const bool allowzero = k.node.attr_int("allowzero", 0) != 0;
  const std::vector<int64_t>& in = x.shape();
  int64_t infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t& d = shape[i];
    if (d == 0 && !allowzero) {
      if (i >= in.size())
        fail(Error::Code::kInvalidArgument, "shape " + shape_text(shape) + " copies dimension " + std::to_string(i) +
                                                " of an input of rank " + std::to_string(in.size()));
      d = in[i];
    }
    if (d == -1) {
      if (infer >= 0) fail(Error::Code::kInvalidArgument, "shape " + shape_text(shape) + " has more than one -1");
      infer = static_cast<int64_t>(i);
    } else if (d < 0) {
      fail(Error::Code::kInvalidArgument, "shape " + shape_text(shape) + " has a negative dimension");
    } else if (__builtin_mul_overflow(known, d, &known)) {
      fail(Error::Code::kInvalidArgument, "shape " + shape_text(shape) + " has too many elements");
    }
  }
  const int64_t total = x.numel();
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      fail(Error::Code::kInvalidArgument,
           "cannot infer the -1 of shape " + shape_text(shape) + " for " + std::to_string(total) + " elements");
    shape[static_cast<size_t>(infer)] = total / known;
  } else if (known != total) {
    fail(Error::Code::kInvalidArgument, "cannot reshape " + shape_text(in) + " to " + shape_text(shape));
  }
  k.set_out(0, reshaped(x, shape));
}

}  // namespace torchless::engine
