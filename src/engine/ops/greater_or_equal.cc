// GreaterOrEqual: a >= b as bool, numpy broadcasting (opset 12; 16 adds bfloat16).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void greater_or_equal_run(Kernel& k) {
  binary<NumericTypes, true>(k, [](auto a, auto b) { return a >= b; });
}

}  // namespace torchless::engine
