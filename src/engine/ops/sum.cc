// Sum: the elementwise sum of one or more inputs (variadic.h). Opsets 1 and 6 (1: ignored
// `consumed_inputs`), 8 broadcasts, 13 adds bfloat16. Float types.
#include "engine/ops/variadic.h"

namespace torchless::engine {

void sum_run(Kernel& k) {
  variadic<FloatTypes>(
      k, [](auto a, auto b) { return a + b; }, [](auto x, size_t) { return x; });
}

}  // namespace torchless::engine
