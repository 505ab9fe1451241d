// Abs: |x|. Opset 1 (float types, ignored `consumed_inputs`) and 6 (all numeric types), 13 adds
// bfloat16. The most negative signed integer stays itself (two's complement wrap).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void abs_run(Kernel& k) {
  unary<NumericTypes>(k, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_floating_point_v<C>)
      return std::fabs(x);
    else if constexpr (std::is_unsigned_v<C>)
      return x;
    else
      return x < 0 ? static_cast<C>(0u - static_cast<std::make_unsigned_t<C>>(x)) : x;
  });
}

}  // namespace torchless::engine
