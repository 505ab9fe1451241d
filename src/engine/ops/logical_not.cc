// Not: logical negation of a bool tensor (opset 1).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void logical_not_run(Kernel& k) {
  unary<Types<bool>>(k, [](bool x) { return !x; });
}

}  // namespace torchless::engine
