// DepthToSpace: [N, C, H, W] -> [N, C/b^2, H*b, W*b], moving channel blocks into b x b spatial
// blocks. DCR (default; the only mode before opset 11) reads the channel as (bh, bw, c), CRD as
// (c, bh, bw).
#include "engine/ops/movement.h"

namespace torchless::engine {

void depth_to_space_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t b = k.node.attr_int("blocksize", 0);
  const std::string mode = k.node.attr_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") fail(Error::Code::kInvalidArgument, "mode must be DCR or CRD");
  if (x.ndim() != 4 || b <= 0 || b > 1 << 20 || x.shape()[1] % (b * b) != 0)
    fail(Error::Code::kInvalidArgument,
         "input " + shape_text(x.shape()) + " does not fit blocksize " + std::to_string(b));
  const int64_t n = x.shape()[0], c = x.shape()[1] / (b * b), h = x.shape()[2], w = x.shape()[3];
  // The output viewed as [N, C', H, bh, W, bw] reads the input at these strides.
  const int64_t sw = 1, sh = w * sw, sc = h * sh;
  const int64_t sbh = mode == "DCR" ? b * c * sc : b * sc, sbw = mode == "DCR" ? c * sc : sc;
  const int64_t scc = mode == "DCR" ? sc : b * b * sc, sn = c * b * b * sc;
  Tensor& y = k.out(0, x.dtype(), {n, c, h * b, w * b});
  strided_copy(bytes(y), x.data(), elem_size(x), {n, c, h, b, w, b}, {sn, scc, sh, sbh, sw, sbw});
}

}  // namespace torchless::engine
