// Upsample (deprecated; opset 10 marks it so): Resize with asymmetric coordinates, mode
// nearest (rounding down) or linear ("bilinear" in opset 1). Scales come from the attributes
// height_scale/width_scale of a 4-D input (opset 1), the scales attribute (7) or the scales
// input (9, 10).
#include "engine/ops/resize.h"

namespace torchless::engine {

void upsample_run(Kernel& k) {
  const Tensor& x = k.in(0);
  ResizeSpec spec;
  spec.mode = k.node.attr_string("mode", "nearest");
  if (spec.mode == "bilinear" && k.node.version < 7) spec.mode = "linear";
  if (spec.mode != "nearest" && spec.mode != "linear")
    fail(Error::Code::kInvalidArgument, "mode '" + spec.mode + "' is not nearest or linear");
  spec.coord = "asymmetric";
  spec.nearest = "simple";
  std::vector<double> scales;
  if (k.node.version < 7) {
    if (x.ndim() != 4) fail(Error::Code::kInvalidArgument, "Upsample-1 needs a 4-D input");
    scales = {1, 1, k.node.attr_float("height_scale", 1), k.node.attr_float("width_scale", 1)};
  } else if (k.node.version < 9) {
    for (float s : k.node.attr_floats("scales")) scales.push_back(s);
  } else {
    scales = float_values(k, 1);
  }
  for (double s : scales)
    if (!(s >= 1)) fail(Error::Code::kInvalidArgument, "Upsample scales must be >= 1");
  resize(k, x, scales, {}, spec);
}

}  // namespace torchless::engine
