// Slice: x[starts:ends:steps] on the listed axes (default all, in order). Attributes starts,
// ends, axes before opset 10; inputs starts, ends, axes, steps from it. Negative starts/ends
// count from the end; both are then clamped (to [0, dim] for positive steps, [-1, dim-1] for
// negative ones), so INT64_MAX/INT64_MIN act as "to the end". A step of 0 is an error.
#include <limits>

#include "engine/ops/movement.h"

namespace torchless::engine {

void slice_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t rank = static_cast<int64_t>(x.ndim());
  const bool attrs = k.node.version < 10;
  const std::vector<int64_t> starts = attrs ? k.node.attr_ints("starts") : k.ints(1);
  const std::vector<int64_t> ends = attrs ? k.node.attr_ints("ends") : k.ints(2);
  std::vector<int64_t> axes, steps;
  if (attrs ? k.node.attr("axes") != nullptr : k.has_input(3))
    axes = attrs ? k.node.attr_ints("axes") : k.ints(3);
  else
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (!attrs && k.has_input(4))
    steps = k.ints(4);
  else
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail(Error::Code::kInvalidArgument, "starts, ends, axes and steps differ in length");
  axes = norm_axes(std::move(axes), rank, k.node);

  std::vector<int64_t> shape = x.shape();
  std::vector<int64_t> strides = strides_of(x.shape());
  int64_t offset = 0;
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = static_cast<size_t>(axes[i]);
    const int64_t dim = x.shape()[a];
    const int64_t step = steps[i];
    if (step == 0) fail(Error::Code::kInvalidArgument, "a step is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t len = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      len = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      len = start > end ? (start - end - 1) / (step == std::numeric_limits<int64_t>::min() ? dim + 1 : -step) + 1 : 0;
    }
    shape[a] = len;
    if (len > 0) offset += start * strides[a];
    strides[a] = len > 1 ? strides[a] * step : 0;  // |step| < dim here: no overflow
  }
  Tensor& y = k.out(0, x.dtype(), shape);
  if (y.numel() == 0) return;
  const size_t es = elem_size(x);
  strided_copy(bytes(y), x.data() + offset * static_cast<int64_t>(es), es, shape, strides);
}

}  // namespace torchless::engine
