// Max: the elementwise maximum of one or more inputs (variadic.h); NaN propagates (numpy.maximum).
// Opsets 1 and 6 take float types (1: ignored `consumed_inputs`), 8 broadcasts, 12 adds integer
// types, 13 bfloat16.
#include "engine/ops/variadic.h"

namespace torchless::engine {

void max_run(Kernel& k) {
  variadic<NumericTypes>(
      k, [](auto a, auto b) { return b > a || b != b ? b : a; }, [](auto x, size_t) { return x; });
}

}  // namespace torchless::engine
