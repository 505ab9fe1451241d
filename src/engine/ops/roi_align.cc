// RoiAlign (opsets 10, 16): for each roi [x1, y1, x2, y2] (scaled by spatial_scale) of image
// batch_indices[r], an [output_height, output_width] grid of bins, each the average (mode avg)
// or maximum (mode max, of the weighted corner values, as ONNX Runtime does) of
// sampling_ratio^2 bilinear samples (adaptive ceil(bin size) per axis when 0). Opset 16's
// coordinate_transformation_mode half_pixel (its default) shifts coordinates by -0.5;
// output_half_pixel (opset 10's only behaviour) does not and makes rois at least 1x1.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/kernel.h"

namespace torchless::engine {

void roi_align_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& rois_t = k.in(1);
  if (x.ndim() != 4) fail(Error::Code::kInvalidArgument, "X must be [N, C, H, W]");
  if (rois_t.ndim() != 2 || rois_t.shape()[1] != 4) fail(Error::Code::kInvalidArgument, "rois must be [R, 4]");
  const int64_t nr = rois_t.shape()[0], nb = x.shape()[0], ch = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const std::vector<int64_t> bidx = k.ints(2);
  if (static_cast<int64_t>(bidx.size()) != nr) fail(Error::Code::kInvalidArgument, "batch_indices must be [R]");
  const std::string mode = k.node.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") fail(Error::Code::kInvalidArgument, "unknown mode '" + mode + "'");
  const int64_t oh = k.node.attr_int("output_height", 1), ow = k.node.attr_int("output_width", 1);
  const int64_t ratio = k.node.attr_int("sampling_ratio", 0);
  const double scale = k.node.attr_float("spatial_scale", 1.0f);
  const std::string ctm =
      k.node.version >= 16 ? k.node.attr_string("coordinate_transformation_mode", "half_pixel") : "output_half_pixel";
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    fail(Error::Code::kInvalidArgument, "unknown coordinate_transformation_mode '" + ctm + "'");
  if (oh < 1 || ow < 1 || ratio < 0) fail(Error::Code::kInvalidArgument, "invalid output size or sampling_ratio");
  const bool half = ctm == "half_pixel";
  const double offset = half ? 0.5 : 0.0;

  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    if (rois_t.dtype() != x.dtype()) fail(Error::Code::kInvalidArgument, "rois must have X's type");
    const T* px = data<T>(x);
    const T* pr = data<T>(rois_t);
    T* py = mut<T>(k.out(0, x.dtype(), {nr, ch, oh, ow}));
    for (int64_t r = 0; r < nr; ++r) {
      const int64_t b = bidx[static_cast<size_t>(r)];
      if (b < 0 || b >= nb)
        fail(Error::Code::kInvalidArgument, "batch index " + std::to_string(b) + " is out of range");
      const double x1 = static_cast<double>(load(pr[r * 4])) * scale - offset;
      const double y1 = static_cast<double>(load(pr[r * 4 + 1])) * scale - offset;
      double rw = static_cast<double>(load(pr[r * 4 + 2])) * scale - offset - x1;
      double rh = static_cast<double>(load(pr[r * 4 + 3])) * scale - offset - y1;
      if (!std::isfinite(x1) || !std::isfinite(y1) || !std::isfinite(rw) || !std::isfinite(rh))
        fail(Error::Code::kInvalidArgument, "roi " + std::to_string(r) + " is not finite");
      if (!half) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
      const double bh = rh / static_cast<double>(oh), bw = rw / static_cast<double>(ow);
      const int64_t gh = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rh / static_cast<double>(oh)));
      const int64_t gw = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rw / static_cast<double>(ow)));
      const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
      for (int64_t c = 0; c < ch; ++c) {
        const T* img = px + (b * ch + c) * h * w;
        auto v = [&](int64_t yy, int64_t xx) { return static_cast<double>(load(img[yy * w + xx])); };
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double acc = 0, mx = -std::numeric_limits<double>::infinity();
            for (int64_t iy = 0; iy < gh; ++iy)
              for (int64_t ix = 0; ix < gw; ++ix) {
                double yy =
                    y1 + static_cast<double>(i) * bh + (static_cast<double>(iy) + 0.5) * bh / static_cast<double>(gh);
                double xx =
                    x1 + static_cast<double>(j) * bw + (static_cast<double>(ix) + 0.5) * bw / static_cast<double>(gw);
                double s[4] = {0, 0, 0, 0};
                if (!(yy < -1.0 || yy > static_cast<double>(h) || xx < -1.0 || xx > static_cast<double>(w))) {
                  yy = std::max(yy, 0.0);
                  xx = std::max(xx, 0.0);
                  int64_t yl = static_cast<int64_t>(yy), xl = static_cast<int64_t>(xx), yh, xh;
                  if (yl >= h - 1)
                    yh = yl = h - 1, yy = static_cast<double>(yl);
                  else
                    yh = yl + 1;
                  if (xl >= w - 1)
                    xh = xl = w - 1, xx = static_cast<double>(xl);
                  else
                    xh = xl + 1;
                  const double ly = yy - static_cast<double>(yl), lx = xx - static_cast<double>(xl);
                  const double hy = 1 - ly, hx = 1 - lx;
                  s[0] = hy * hx * v(yl, xl);
                  s[1] = hy * lx * v(yl, xh);
                  s[2] = ly * hx * v(yh, xl);
                  s[3] = ly * lx * v(yh, xh);
                }
                acc += s[0] + s[1] + s[2] + s[3];
                mx = std::max({mx, s[0], s[1], s[2], s[3]});
              }
            py[((r * ch + c) * oh + i) * ow + j] = store<T>(mode == "avg" ? acc / count : mx);
          }
      }
    }
  });
}

}  // namespace torchless::engine
