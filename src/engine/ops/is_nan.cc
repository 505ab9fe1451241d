// IsNaN: whether x is NaN, as bool (opset 9; 13 adds bfloat16).
#include "engine/kernel.h"

namespace torchless::engine {

void is_nan_run(Kernel& k) {
  const Tensor& x = k.in(0);
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, DType::kBool, x.shape());
    const T* px = data<T>(x);
    bool* py = mut<bool>(y);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) py[i] = std::isnan(load(px[i]));
  });
}

}  // namespace torchless::engine
