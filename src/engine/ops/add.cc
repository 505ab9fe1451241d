// Add: a + b; integers wrap. Opset 7+ broadcasts numpy-style; opsets 1 and 6 use the `broadcast`
// and `axis` attributes (elementwise_legacy.h). 13 adds bfloat16, 14 the 8/16-bit integers.
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {

void add_run(Kernel& k) {
  binary_any_opset<NumericTypes>(k, [](auto a, auto b) {
    using C = decltype(a);
    if constexpr (std::is_integral_v<C>) {  // unsigned arithmetic wraps where signed would overflow
      using U = std::common_type_t<unsigned, std::make_unsigned_t<C>>;
      return static_cast<C>(static_cast<U>(a) + static_cast<U>(b));
    } else {
      return a + b;
    }
  });
}

}  // namespace torchless::engine
