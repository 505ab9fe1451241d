// Sign: -1, 0 or 1 by the sign of x; NaN stays NaN (opset 9, 13 adds bfloat16). All numeric types.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void sign_run(Kernel& k) {
  unary<NumericTypes>(k, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_unsigned_v<C>)
      return static_cast<C>(x > 0 ? 1 : 0);
    else
      return x > C(0) ? C(1) : x < C(0) ? C(-1) : x;
  });
}

}  // namespace torchless::engine
