// Neg: -x. Opset 1 (float types, ignored `consumed_inputs`) and 6 (signed integers too), 13 adds
// bfloat16. Integers wrap (-INT_MIN = INT_MIN).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void neg_run(Kernel& k) {
  unary<SignedTypes>(k, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_floating_point_v<C>)
      return -x;
    else
      return static_cast<C>(0u - static_cast<std::make_unsigned_t<C>>(x));
  });
}

}  // namespace torchless::engine
