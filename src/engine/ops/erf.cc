// Erf: the error function (opset 9, 13 adds bfloat16).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void erf_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::erf(x); });
}

}  // namespace torchless::engine
