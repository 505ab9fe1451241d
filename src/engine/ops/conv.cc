// Conv: N-d convolution of X [N, C, D...] with W [M, C/group, k...] plus an optional bias B [M];
// strides, dilations, pads or auto_pad, group (window.h). Conv-1 and Conv-11 differ only in
// shape inference (kernel_shape may be omitted in both). Accumulates in double.
#include "engine/ops/conv.h"

namespace torchless::engine {

void conv_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(1);
  if (w.dtype() != x.dtype()) fail(Error::Code::kInvalidArgument, "X and W have different types");
  const ConvShape s = conv_shape(k.node, x, w);
  const bool has_bias = k.has_input(2);
  if (has_bias && (k.in(2).dtype() != x.dtype() || k.in(2).numel() != s.m))
    fail(Error::Code::kInvalidArgument, "B must hold " + std::to_string(s.m) + " values of X's type");
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, x.dtype(), s.out_shape());
    const T* px = data<T>(x);
    const T* pw = data<T>(w);
    const T* pb = has_bias ? data<T>(k.in(2)) : nullptr;
    T* py = mut<T>(y);
    conv_loop<double>(
        s, [&](int64_t i) { return static_cast<double>(load(px[i])); },
        [&](int64_t i) { return static_cast<double>(load(pw[i])); },
        [&](int64_t i, int64_t m, double acc) { py[i] = store<T>(acc + (pb ? load(pb[m]) : 0.0)); });
  });
}

}  // namespace torchless::engine
