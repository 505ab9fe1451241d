// MaxUnpool (opsets 9, 11): scatters X [N, C, spatial...] into a zero tensor at the flat
// indices I (as MaxPool's Indices output gives them, over the whole tensor of the default shape:
// N, C and (in - 1) * stride + kernel - pads per spatial dim). With the optional output_shape
// input the output has that shape and each index keeps its coordinates in the default shape.
#include "engine/kernel.h"

namespace torchless::engine {

void max_unpool_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& ind = k.in(1);
  if (x.ndim() < 3) fail(Error::Code::kInvalidArgument, "X must be [N, C, spatial...]");
  if (ind.shape() != x.shape()) fail(Error::Code::kInvalidArgument, "I must have X's shape");
  const size_t sp = x.ndim() - 2;
  const std::vector<int64_t> kernel = k.node.attr_ints("kernel_shape");
  std::vector<int64_t> strides = k.node.attr_ints("strides"), pads = k.node.attr_ints("pads");
  if (strides.empty()) strides.assign(sp, 1);
  if (pads.empty()) pads.assign(2 * sp, 0);
  if (kernel.size() != sp || strides.size() != sp || pads.size() != 2 * sp)
    fail(Error::Code::kInvalidArgument, "kernel_shape, strides and pads must match the spatial rank");
  std::vector<int64_t> shape = {x.shape()[0], x.shape()[1]};
  for (size_t d = 0; d < sp; ++d) {
    const int64_t o = (x.shape()[2 + d] - 1) * strides[d] + kernel[d] - pads[d] - pads[sp + d];
    if (o < 0) fail(Error::Code::kInvalidArgument, "negative output size");
    shape.push_back(o);
  }
  const std::vector<int64_t> def = shape;
  const int64_t def_n = numel(def);
  if (k.has_input(2)) {
    shape = k.ints(2);
    if (shape.size() != x.ndim()) fail(Error::Code::kInvalidArgument, "output_shape must have X's rank");
  }
  std::vector<int64_t> idx = k.ints(1);
  if (shape != def) {
    const std::vector<int64_t> st = strides_of(shape);
    numel(shape);
    for (int64_t& i : idx) {
      if (i < 0 || i >= def_n)
        fail(Error::Code::kInvalidArgument, "index " + std::to_string(i) + " is outside the unpooled shape");
      int64_t rest = i, at = 0;
      for (size_t d = def.size(); d-- > 0;) {
        const int64_t c = rest % def[d];
        rest /= def[d];
        if (c >= shape[d]) fail(Error::Code::kInvalidArgument, "an index falls outside output_shape");
        at += c * st[d];
      }
      i = at;
    }
  }
  dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, x.dtype(), shape);
    const int64_t n = y.numel();
    T* py = mut<T>(y);
    const T* px = data<T>(x);
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] < 0 || idx[i] >= n)
        fail(Error::Code::kInvalidArgument,
             "index " + std::to_string(idx[i]) + " is outside the output of " + std::to_string(n) + " elements");
      py[idx[i]] = px[i];
    }
  });
}

}  // namespace torchless::engine
