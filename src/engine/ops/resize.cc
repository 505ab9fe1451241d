// Resize: resampling by scales or to sizes (resize.h). Opset 10: inputs X, scales; modes
// nearest/linear with asymmetric coordinates and nearest rounding down when upsampling, up
// when downsampling (as ONNX Runtime). Opset 11: inputs X, roi, scales, sizes (an empty scales
// accompanies sizes) and the attributes coordinate_transformation_mode, cubic_coeff_a,
// exclude_outside, extrapolation_value, nearest_mode; opset 13: roi and scales optional.
#include "engine/ops/resize.h"

namespace torchless::engine {

void resize_run(Kernel& k) {
  const Tensor& x = k.in(0);
  ResizeSpec spec;
  spec.mode = k.node.attr_string("mode", "nearest");
  if (k.node.version < 11) {
    if (spec.mode != "nearest" && spec.mode != "linear")
      fail(Error::Code::kInvalidArgument, "mode '" + spec.mode + "' is not nearest or linear");
    spec.coord = "asymmetric";
    spec.nearest = "simple";
    resize(k, x, float_values(k, 1), {}, spec);
    return;
  }
  spec.coord = k.node.attr_string("coordinate_transformation_mode", "half_pixel");
  spec.nearest = k.node.attr_string("nearest_mode", "round_prefer_floor");
  if (spec.nearest == "simple") fail(Error::Code::kUnsupported, "nearest_mode 'simple' is not implemented");
  spec.cubic_a = k.node.attr_float("cubic_coeff_a", -0.75f);
  spec.exclude_outside = k.node.attr_int("exclude_outside", 0) != 0;
  spec.extrapolation = k.node.attr_float("extrapolation_value", 0.0f);
  const bool has_scales = k.has_input(2) && k.in(2).numel() > 0;
  const bool has_sizes = k.has_input(3) && k.in(3).numel() > 0;
  if (has_scales == has_sizes) fail(Error::Code::kInvalidArgument, "exactly one of scales and sizes must be given");
  if (spec.coord == "tf_crop_and_resize") {
    if (!k.has_input(1)) fail(Error::Code::kInvalidArgument, "tf_crop_and_resize needs roi");
    spec.roi = float_values(k, 1);
  }
  resize(k, x, has_scales ? float_values(k, 2) : std::vector<double>{}, has_sizes ? k.ints(3) : std::vector<int64_t>{},
         spec);
}

}  // namespace torchless::engine
