// IsNaN: whether x is NaN, as bool (opset 9; 13 adds bfloat16).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void is_nan_run(Kernel& k) {
  predicate<FloatTypes>(k, [](auto v) { return std::isnan(v); });
}

}  // namespace torchless::engine
