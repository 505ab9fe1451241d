// Softsign: x / (1 + |x|) (opset 1).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void softsign_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return x / (decltype(x)(1) + std::fabs(x)); });
}

}  // namespace torchless::engine
