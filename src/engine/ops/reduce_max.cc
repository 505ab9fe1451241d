// ReduceMax: the maximum over the `axes` attribute (keepdims, default all axes); NaN
// propagates, an empty reduction gives the lowest value (-inf for floats). Versions 1, 11, 12
// (int8/uint8) and 13 compute the same.
#include <cmath>
#include <limits>

#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_max_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    using C = calc_t<T>;
    const C init =
        std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::lowest();
    return reduce_fold(p, x, init, [](C a, C v, int64_t) { return v != v || v > a ? v : a; });
  });
}

}  // namespace torchless::engine
