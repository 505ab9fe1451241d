// Sin: sine (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void sin_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::sin(x); });
}

}  // namespace torchless::engine
