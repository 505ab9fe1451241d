// Cosh: hyperbolic cosine (opset 9).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void cosh_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::cosh(x); });
}

}  // namespace torchless::engine
