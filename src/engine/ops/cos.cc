// Cos: cosine (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void cos_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::cos(x); });
}

}  // namespace torchless::engine
