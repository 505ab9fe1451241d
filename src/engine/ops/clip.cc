// Clip: x limited to [lo, hi]; with lo > hi every element becomes hi (as numpy.clip). Opsets 1 and
// 6: the bounds are the float attributes `min`/`max` (opset 1 also has the ignored
// `consumed_inputs`). Opset 11+: optional scalar inputs 1 (min) and 2 (max) of x's type, absent =
// no bound; 12 adds integer types, 13 bfloat16.
#include <optional>

#include "engine/kernel.h"

namespace torchless::engine {

void clip_run(Kernel& k) {
  const Tensor& x = k.in(0);
  dispatch(NumericTypes{}, x.dtype(), k.node, [&]<class T>() {
    using C = calc_t<T>;
    std::optional<C> lo, hi;
    if (k.node.version < 11) {
      if (const Attr* a = k.node.attr("min")) lo = static_cast<C>(a->f);
      if (const Attr* a = k.node.attr("max")) hi = static_cast<C>(a->f);
    } else {
      auto bound = [&](size_t i) -> std::optional<C> {
        if (!k.has_input(i)) return std::nullopt;
        const Tensor& t = k.in(i);
        if (t.dtype() != x.dtype() || t.numel() != 1)
          fail(Error::Code::kInvalidArgument,
               std::string(i == 1 ? "min" : "max") + " must be one " + std::string(dtype_name(x.dtype())) +
                   " value, not " + std::string(dtype_name(t.dtype())) + " of shape " + shape_text(t.shape()));
        return load(data<T>(t)[0]);
      };
      lo = bound(1);
      hi = bound(2);
    }
    Tensor& y = k.out_uninit(0, x.dtype(), x.shape());
    const T* px = data<T>(x);
    T* py = mut<T>(y);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      C v = load(px[i]);
      if (lo && v < *lo) v = *lo;
      if (hi && v > *hi) v = *hi;
      py[i] = store<T>(v);
    }
  });
}

}  // namespace torchless::engine
