// SplitToSequence (opset 11): splits `input` along `axis` into a sequence. Without `split`, into
// pieces of 1 (squeezed unless keepdims=1, the default); a scalar `split` gives pieces of that size
// (the last one may be shorter); a 1-D `split` gives the piece sizes, which must add up to the axis.
#include "engine/ops/seq.h"

namespace torchless::engine {

void split_to_sequence_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t axis = norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(x.ndim()), k.node);
  if (x.ndim() == 0) fail(Error::Code::kInvalidArgument, "cannot split a scalar");
  const int64_t dim = x.shape()[static_cast<size_t>(axis)];
  std::vector<Tensor> items;
  if (!k.has_input(1)) {
    const bool keep = k.node.attr_int("keepdims", 1) != 0;
    for (int64_t i = 0; i < dim; ++i) items.push_back(keep ? narrow_axis(k, x, axis, i, 1) : take_axis(k, x, axis, i));
  } else {
    const Tensor& split = k.in(1);
    const std::vector<int64_t> sizes_in = k.ints(1);
    std::vector<int64_t> sizes;
    if (split.ndim() == 0) {
      const int64_t step = sizes_in.at(0);
      if (step <= 0) fail(Error::Code::kInvalidArgument, "split must be positive, got " + std::to_string(step));
      for (int64_t at = 0; at < dim; at += step) sizes.push_back(std::min(step, dim - at));
    } else {
      int64_t total = 0;
      for (int64_t s : sizes_in) {
        if (s < 0 || __builtin_add_overflow(total, s, &total))
          fail(Error::Code::kInvalidArgument, "invalid split size " + std::to_string(s));
      }
      if (total != dim)
        fail(Error::Code::kInvalidArgument,
             "split sizes add up to " + std::to_string(total) + ", the axis has " + std::to_string(dim));
      sizes = sizes_in;
    }
    int64_t at = 0;
    for (int64_t s : sizes) {
      items.push_back(narrow_axis(k, x, axis, at, s));
      at += s;
    }
  }
  k.set_out_val(0, Val::sequence(std::move(items), x.dtype()));
}

}  // namespace torchless::engine
