// IsInf: whether x is +inf (counted when detect_positive, default 1) or -inf (when
// detect_negative, default 1), as bool (opset 10).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void is_inf_run(Kernel& k) {
  const bool positive = k.node.attr_int("detect_positive", 1) != 0;
  const bool negative = k.node.attr_int("detect_negative", 1) != 0;
  predicate<FloatTypes>(k, [&](auto v) { return std::isinf(v) && (v > 0 ? positive : negative); });
}

}  // namespace torchless::engine
