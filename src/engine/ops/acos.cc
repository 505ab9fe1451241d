// Acos: arccosine (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void acos_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::acos(x); });
}

}  // namespace torchless::engine
