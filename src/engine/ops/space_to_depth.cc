// SpaceToDepth: [N, C, H, W] -> [N, C*b^2, H/b, W/b], moving each b x b spatial block into
// channels ordered (bh, bw, c).
#include "engine/ops/movement.h"

namespace torchless::engine {

void space_to_depth_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t b = k.node.attr_int("blocksize", 0);
  int64_t channels = 0;
  if (x.ndim() != 4 || b <= 0 || x.shape()[2] % b != 0 || x.shape()[3] % b != 0 ||
      __builtin_mul_overflow(x.shape()[1], b, &channels) || __builtin_mul_overflow(channels, b, &channels))
    fail(Error::Code::kInvalidArgument,
         "input " + shape_text(x.shape()) + " does not fit blocksize " + std::to_string(b));
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2] / b, w = x.shape()[3] / b;
  // The output viewed as [N, bh, bw, C, H', W'] reads the input at these strides.
  const int64_t sbw = 1, sw = b, sbh = w * b, sh = b * sbh, sc = h * sh, sn = c * sc;
  Tensor& y = k.out(0, x.dtype(), {n, channels, h, w});
  strided_copy(bytes(y), x.data(), elem_size(x), {n, b, b, c, h, w}, {sn, sbh, sbw, sc, sh, sw});
}

}  // namespace torchless::engine
