// Tan: tangent (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void tan_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::tan(x); });
}

}  // namespace torchless::engine
