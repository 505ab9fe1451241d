// Mul: a * b with numpy broadcasting; integers wrap.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void mul_run(Kernel& k) {
  binary<NumericTypes>(k, [](auto a, auto b) { return a * b; });
}

}  // namespace torchless::engine
