// Div: a / b. Integer division truncates toward zero; by zero it is defined as 0 here (undefined
// in C++ and in ONNX). Opset 7+ broadcasts numpy-style; opsets 1 and 6 use the `broadcast` and
// `axis` attributes (elementwise_legacy.h). 13 adds bfloat16, 14 the 8/16-bit integers.
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {

void div_run(Kernel& k) {
  binary_any_opset<NumericTypes>(k, [](auto a, auto b) {
    using C = decltype(a);
    if constexpr (std::is_integral_v<C>) {
      if (b == C(0)) return C(0);
      if constexpr (std::is_signed_v<C>)
        if (b == C(-1)) return static_cast<C>(-static_cast<std::make_unsigned_t<C>>(a));  // INT_MIN / -1 wraps
    }
    return static_cast<C>(a / b);
  });
}

}  // namespace torchless::engine
