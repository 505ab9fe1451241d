// Sinh: hyperbolic sine (opset 9).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void sinh_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::sinh(x); });
}

}  // namespace torchless::engine
