// Acosh: inverse hyperbolic cosine (opset 9).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void acosh_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::acosh(x); });
}

}  // namespace torchless::engine
