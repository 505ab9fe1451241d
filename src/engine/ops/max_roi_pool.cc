// MaxRoiPool-1 (Fast R-CNN ROI pooling): X [N, C, H, W], rois [R, 5] = (batch index, x1, y1,
// x2, y2) in input coordinates times spatial_scale; output [R, C, ph, pw] (pooled_shape), each
// bin the maximum of its cells, 0 for an empty bin. Bin edges follow Caffe (and ONNX Runtime):
// corners rounded, roi size at least 1, bin h = floor(i * size / ph) .. ceil((i + 1) * size / ph).
#include <cmath>
#include <limits>

#include "engine/kernel.h"

namespace torchless::engine {

void max_roi_pool_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& rois = k.in(1);
  const std::vector<int64_t> pooled = k.node.attr_ints("pooled_shape");
  const double scale = k.node.attr_float("spatial_scale", 1.f);
  if (x.ndim() != 4) fail(Error::Code::kInvalidArgument, "X must be [N, C, H, W], got " + shape_text(x.shape()));
  if (rois.ndim() != 2 || rois.shape()[1] != 5)
    fail(Error::Code::kInvalidArgument, "rois must be [R, 5], got " + shape_text(rois.shape()));
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1)
    fail(Error::Code::kInvalidArgument, "pooled_shape must be two positive sizes");
  if (rois.dtype() != x.dtype()) fail(Error::Code::kInvalidArgument, "rois must have the type of X");
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t r = rois.shape()[0], ph = pooled[0], pw = pooled[1];
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, x.dtype(), {r, c, ph, pw});
    const T* in = data<T>(x);
    const T* box = data<T>(rois);
    T* out = mut<T>(y);
    for (int64_t i = 0; i < r; ++i) {
      const double b = load(box[i * 5]);
      if (!(b >= 0 && b < static_cast<double>(n)))
        fail(Error::Code::kInvalidArgument, "roi " + std::to_string(i) + " names batch index out of range");
      const int64_t batch = static_cast<int64_t>(b);
      auto corner = [&](int j) {
        const double v = std::round(static_cast<double>(load(box[i * 5 + j])) * scale);
        return static_cast<int64_t>(std::clamp(v, -1e15, 1e15));
      };
      const int64_t x1 = corner(1), y1 = corner(2), x2 = corner(3), y2 = corner(4);
      const int64_t rh = std::max<int64_t>(y2 - y1 + 1, 1), rw = std::max<int64_t>(x2 - x1 + 1, 1);
      const double bh = static_cast<double>(rh) / static_cast<double>(ph);
      const double bw = static_cast<double>(rw) / static_cast<double>(pw);
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* plane = in + (batch * c + ch) * h * w;
        T* dst = out + ((i * c + ch) * ph) * pw;
        for (int64_t py = 0; py < ph; ++py) {
          const int64_t hs = std::clamp<int64_t>(static_cast<int64_t>(std::floor(py * bh)) + y1, 0, h);
          const int64_t he = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((py + 1) * bh)) + y1, 0, h);
          for (int64_t px = 0; px < pw; ++px) {
            const int64_t ws = std::clamp<int64_t>(static_cast<int64_t>(std::floor(px * bw)) + x1, 0, w);
            const int64_t we = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((px + 1) * bw)) + x1, 0, w);
            double m = -std::numeric_limits<double>::infinity();
            for (int64_t yy = hs; yy < he; ++yy)
              for (int64_t xx = ws; xx < we; ++xx) m = std::max<double>(m, load(plane[yy * w + xx]));
            dst[py * pw + px] = store<T>(hs >= he || ws >= we ? 0.0 : m);
          }
        }
      }
    }
  });
}

}  // namespace torchless::engine
