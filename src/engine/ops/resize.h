// The resampling kernel shared by Resize and Upsample, after the ONNX reference
// (onnx/backend/test/case/node/resize.py): separable per-axis interpolation where output
// coordinate x maps to input coordinate x_ori by the coordinate transform, then
//   nearest  one tap chosen by nearest_mode from the two pixels around x_ori,
//   linear   two taps with weights 1 - r, r,
//   cubic    four taps with Keys weights (cubic_coeff_a); exclude_outside drops taps outside
//            the input and renormalizes,
// where r in (0, 1] is x_ori's distance from the pixel to its left (an integer x_ori counts
// as r = 1 from the pixel before it). Taps outside the input read the edge (clamped).
// tf_crop_and_resize maps through roi and gives extrapolation_value when x_ori falls outside
// on any axis. Linear/cubic sum in double (integer outputs saturate, then truncate); nearest
// copies the element.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops/movement.h"

namespace torchless::engine {

struct ResizeSpec {
  std::string mode = "nearest";                // nearest | linear | cubic
  std::string coord = "half_pixel";            // coordinate_transformation_mode
  std::string nearest = "round_prefer_floor";  // nearest_mode, or "simple": floor when upsampling,
                                               // ceil when downsampling (Upsample, Resize-10)
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
  std::vector<double> roi;  // [starts..., ends...] (tf_crop_and_resize)
};

// Input i (a float tensor of any width) as doubles.
inline std::vector<double> float_values(const Kernel& k, size_t i) {
  const Tensor& t = k.in(i);
  std::vector<double> r(static_cast<size_t>(t.numel()));
  dispatch(FloatTypes{}, t.dtype(), k.node, [&]<class T>() {
    for (size_t j = 0; j < r.size(); ++j) r[j] = static_cast<double>(load(data<T>(t)[j]));
  });
  return r;
}

namespace resize_detail {

struct Tap {
  int64_t index;
  double weight;
};

// The taps of every output index along one axis; an empty list means "outside"
// (extrapolation_value).
inline std::vector<std::vector<Tap>> plan_axis(int64_t in, int64_t out, double scale, double roi_start, double roi_end,
                                               const ResizeSpec& s) {
  std::vector<std::vector<Tap>> plan(static_cast<size_t>(out));
  const double out_w = scale * static_cast<double>(in);  // unfloored, as the reference
  const double last = static_cast<double>(in - 1);
  for (int64_t xi = 0; xi < out; ++xi) {
    const double x = static_cast<double>(xi);
    double xo = 0;
    if (s.coord == "half_pixel") {
      xo = (x + 0.5) / scale - 0.5;
    } else if (s.coord == "pytorch_half_pixel") {
      xo = out_w == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    } else if (s.coord == "align_corners") {
      xo = out_w == 1 ? 0 : x * last / (out_w - 1);
    } else if (s.coord == "asymmetric") {
      xo = x / scale;
    } else if (s.coord == "tf_half_pixel_for_nn") {
      xo = (x + 0.5) / scale;
    } else if (s.coord == "tf_crop_and_resize") {
      xo = out_w == 1 ? (roi_end - roi_start) * last / 2 : x * (roi_end - roi_start) * last / (out_w - 1);
      xo += roi_start * last;
      if (!(xo >= 0 && xo <= last)) continue;
    } else {
      fail(Error::Code::kUnsupported, "coordinate_transformation_mode '" + s.coord + "' is not implemented");
    }
    // Far outside the input every tap reads the edge; clamping keeps the conversion defined.
    xo = std::clamp(xo, -4.0, static_cast<double>(in) + 4);
    const double fl = std::floor(xo);
    const bool integral = xo == fl;
    const double r = integral ? 1.0 : xo - fl;
    const int64_t left = static_cast<int64_t>(fl) - (integral ? 1 : 0);
    std::vector<Tap> taps;
    if (s.mode == "nearest") {
      std::string m = s.nearest;
      if (m == "simple") m = scale < 1 ? "ceil" : "floor";
      bool right = false;
      if (integral || m == "ceil")
        right = true;
      else if (m == "round_prefer_floor")
        right = r > 0.5;
      else if (m == "round_prefer_ceil")
        right = r >= 0.5;
      else if (m != "floor")
        fail(Error::Code::kUnsupported, "nearest_mode '" + m + "' is not implemented");
      taps = {{left + (right ? 1 : 0), 1.0}};
    } else if (s.mode == "linear") {
      taps = {{left, 1 - r}, {left + 1, r}};
    } else if (s.mode == "cubic") {
      const double a = s.cubic_a, q = 1 - r;
      taps = {{left - 1, ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a},
              {left, ((a + 2) * r - (a + 3)) * r * r + 1},
              {left + 1, ((a + 2) * q - (a + 3)) * q * q + 1},
              {left + 2, ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a}};
    } else {
      fail(Error::Code::kUnsupported, "mode '" + s.mode + "' is not implemented (nearest, linear, cubic are)");
    }
    if (s.exclude_outside) {
      double sum = 0;
      for (Tap& t : taps) {
        if (t.index < 0 || t.index >= in) t.weight = 0;
        sum += t.weight;
      }
      if (sum != 0)
        for (Tap& t : taps) t.weight /= sum;
    }
    for (const Tap& t : taps)
      if (t.weight != 0) plan[static_cast<size_t>(xi)].push_back({std::clamp<int64_t>(t.index, 0, in - 1), t.weight});
    if (plan[static_cast<size_t>(xi)].empty()) plan[static_cast<size_t>(xi)].push_back({0, 0.0});
  }
  return plan;
}

template <class T>
T saturate(double v) {
  if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    return static_cast<T>(std::clamp(v, static_cast<double>(std::numeric_limits<T>::lowest()),
                                     static_cast<double>(std::numeric_limits<T>::max())));
  } else {
    return store<T>(v);
  }
}

}  // namespace resize_detail

// Resizes x to `sizes` (scale = out / in) or, when sizes is empty, by `scales` (out =
// floor(in * scale)), one entry per axis, into output 0.
inline void resize(Kernel& k, const Tensor& x, std::vector<double> scales, std::vector<int64_t> sizes,
                   const ResizeSpec& spec) {
  using namespace resize_detail;
  const size_t rank = x.ndim();
  const std::vector<int64_t>& in = x.shape();
  if ((sizes.empty() ? scales.size() : sizes.size()) != rank)
    fail(Error::Code::kInvalidArgument, "scales/sizes must have one entry per axis of " + shape_text(in));
  if (sizes.empty()) {
    for (size_t d = 0; d < rank; ++d) {
      const double o = std::floor(scales[d] * static_cast<double>(in[d]));
      if (!(scales[d] > 0) || !(o < 4.6e18))
        fail(Error::Code::kInvalidArgument, "scale " + std::to_string(scales[d]) + " is not positive or too large");
      sizes.push_back(static_cast<int64_t>(o));
    }
  } else {
    scales.assign(rank, 1.0);
    for (size_t d = 0; d < rank; ++d) {
      if (sizes[d] < 0) fail(Error::Code::kInvalidArgument, "sizes " + shape_text(sizes) + " has a negative entry");
      scales[d] = static_cast<double>(sizes[d]) / static_cast<double>(in[d]);
    }
  }
  Tensor& y = k.out(0, x.dtype(), sizes);
  if (y.numel() == 0) return;
  if (x.numel() == 0) fail(Error::Code::kInvalidArgument, "cannot resize an empty input to a non-empty output");
  const bool crop = spec.coord == "tf_crop_and_resize";
  if (crop && spec.roi.size() != 2 * rank)
    fail(Error::Code::kInvalidArgument, "roi must have 2 entries per axis for tf_crop_and_resize");
  std::vector<std::vector<std::vector<Tap>>> plan(rank);
  for (size_t d = 0; d < rank; ++d)
    plan[d] = plan_axis(in[d], sizes[d], scales[d], crop ? spec.roi[d] : 0, crop ? spec.roi[d + rank] : 1, spec);

  const std::vector<int64_t> strides = strides_of(in);
  const int64_t n = y.numel();
  const size_t es = elem_size(x);
  // Calls f(taps per axis) for each output element in row-major order; null when outside.
  auto each = [&](auto f) {
    std::vector<int64_t> o(rank, 0);
    std::vector<const std::vector<Tap>*> taps(rank);
    for (int64_t i = 0; i < n; ++i) {
      bool outside = false;
      for (size_t d = 0; d < rank; ++d) {
        taps[d] = &plan[d][static_cast<size_t>(o[d])];
        outside = outside || taps[d]->empty();
      }
      f(i, outside, taps);
      for (size_t d = rank; d-- > 0;)
        if (++o[d] < sizes[d])
          break;
        else
          o[d] = 0;
    }
  };
  if (spec.mode == "nearest" && !crop) {
    each([&](int64_t i, bool, const std::vector<const std::vector<Tap>*>& taps) {
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d) off += (*taps[d])[0].index * strides[d];
      std::memcpy(bytes(y) + static_cast<size_t>(i) * es, x.data() + static_cast<size_t>(off) * es, es);
    });
    return;
  }
  dispatch(NumericTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* src = data<T>(x);
    T* dst = mut<T>(y);
    std::vector<size_t> sel(rank);
    each([&](int64_t i, bool outside, const std::vector<const std::vector<Tap>*>& taps) {
      if (outside) {
        dst[i] = saturate<T>(spec.extrapolation);
        return;
      }
      double acc = 0;
      std::fill(sel.begin(), sel.end(), 0);
      for (;;) {
        double w = 1;
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) {
          const Tap& t = (*taps[d])[sel[d]];
          w *= t.weight;
          off += t.index * strides[d];
        }
        acc += w * static_cast<double>(load(src[off]));
        size_t d = rank;
        while (d > 0 && ++sel[d - 1] == taps[d - 1]->size()) sel[--d] = 0;
        if (d == 0) break;
      }
      dst[i] = saturate<T>(acc);
    });
  });
}

}  // namespace torchless::engine
