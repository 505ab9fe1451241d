// HardSwish: x * max(0, min(1, x / 6 + 1/2)) (opset 14).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void hard_swish_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) {
    using C = decltype(x);
    return x * std::max(C(0), std::min(C(1), x / C(6) + C(0.5)));
  });
}

}  // namespace torchless::engine
