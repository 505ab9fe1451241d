// ReduceSum: the sum over `axes` (keepdims, default all axes). Versions 1 and 11 take axes as
// an attribute; 13 as the optional input 1, where an empty list means all axes, or no
// reduction with noop_with_empty_axes=1. Integers wrap; floats accumulate in double.
#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_sum_run(Kernel& k) {
  reduce_run<NumericTypes>(k, k.node.version >= 13, [&]<class T>(const ReducePlan& p, const T* x) {
    using A = acc_t<T>;
    return reduce_fold(p, x, A(0), [](A a, auto v, int64_t) { return a + static_cast<A>(v); });
  });
}

}  // namespace torchless::engine
