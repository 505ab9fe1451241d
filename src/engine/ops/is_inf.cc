// IsInf: whether x is +inf (counted when detect_positive, default 1) or -inf (when
// detect_negative, default 1), as bool (opset 10).
#include "engine/kernel.h"

namespace torchless::engine {

void is_inf_run(Kernel& k) {
  const bool positive = k.node.attr_int("detect_positive", 1) != 0;
  const bool negative = k.node.attr_int("detect_negative", 1) != 0;
  const Tensor& x = k.in(0);
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, DType::kBool, x.shape());
    const T* px = data<T>(x);
    bool* py = mut<bool>(y);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      const auto v = load(px[i]);
      py[i] = std::isinf(v) && (v > 0 ? positive : negative);
    }
  });
}

}  // namespace torchless::engine
