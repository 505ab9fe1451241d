// Greater: a > b as bool. Opset 7+ broadcasts numpy-style; opset 1 uses the `broadcast` and
// `axis` attributes (elementwise_legacy.h). Opsets 1 and 7 take float types, 9 adds integers, 13 bfloat16.
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {

void greater_run(Kernel& k) {
  binary_any_opset<NumericTypes, true>(k, [](auto a, auto b) { return a > b; });
}

}  // namespace torchless::engine
