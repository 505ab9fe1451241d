// Atanh: inverse hyperbolic tangent (opset 9).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void atanh_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::atanh(x); });
}

}  // namespace torchless::engine
