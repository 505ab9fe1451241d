// Asinh: inverse hyperbolic sine (opset 9).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void asinh_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::asinh(x); });
}

}  // namespace torchless::engine
