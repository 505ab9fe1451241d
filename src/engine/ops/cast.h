// Element type conversion shared by Cast, CastLike, Pow and Shrink.
#pragma once

#include <limits>

#include "engine/kernel.h"

namespace torchless::engine {

// A calc_t value as a U. To bool: v != 0 (NaN is true). Floating point to integer: truncates,
// saturates at the integer's range and gives 0 for NaN (undefined in ONNX). Integer to integer
// wraps (numpy's astype). To float16/bfloat16: round to nearest even (bfloat16 NaN -> 0x7fc0).
template <class U, class C>
U convert(C v) {
  if constexpr (std::is_same_v<U, bool>) {
    return v != C(0);
  } else if constexpr (std::is_integral_v<U> && std::is_floating_point_v<C>) {
    if (std::isnan(v)) return U(0);
    if (v <= static_cast<C>(std::numeric_limits<U>::min())) return std::numeric_limits<U>::min();
    if (v >= static_cast<C>(std::numeric_limits<U>::max())) return std::numeric_limits<U>::max();
    return static_cast<U>(v);
  } else {
    return store<U>(v);
  }
}

// Output 0 = x converted to `to` (x itself when the type is the same).
inline void cast_to(Kernel& k, const Tensor& x, DType to) {
  if (x.dtype() == to) {
    k.set_out(0, x);
    return;
  }
  dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
    dispatch(AllTypes{}, to, k.node, [&]<class U>() {
      Tensor& y = k.out(0, to, x.shape());
      const T* px = data<T>(x);
      U* py = mut<U>(y);
      const int64_t n = x.numel();
      for (int64_t i = 0; i < n; ++i) py[i] = convert<U>(load(px[i]));
    });
  });
}

}  // namespace torchless::engine
