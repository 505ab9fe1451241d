// Mean: the elementwise sum of one or more inputs divided by their count (variadic.h). Opsets 1
// and 6 (1: ignored `consumed_inputs`), 8 broadcasts, 13 adds bfloat16. Float types.
#include "engine/ops/variadic.h"

namespace torchless::engine {

void mean_run(Kernel& k) {
  variadic<FloatTypes>(
      k, [](auto a, auto b) { return a + b; }, [](auto x, size_t n) { return x / static_cast<decltype(x)>(n); });
}

}  // namespace torchless::engine
