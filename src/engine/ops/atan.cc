// Atan: arctangent (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void atan_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::atan(x); });
}

}  // namespace torchless::engine
