// Equal: a == b as bool. Opset 7+ broadcasts numpy-style; opset 1 uses the `broadcast` and `axis`
// attributes (elementwise_legacy.h). Opset 1/7 take bool and integers, 11 adds float types, 13
// bfloat16; every type is accepted here.
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {

void equal_run(Kernel& k) {
  binary_any_opset<AllTypes, true>(k, [](auto a, auto b) { return a == b; });
}

}  // namespace torchless::engine
