// ReduceSumSquare: the sum of squares over the `axes` attribute (keepdims, default all axes);
// versions 1, 11 and 13 compute the same. Integers wrap; floats accumulate in double.
#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_sum_square_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    using A = acc_t<T>;
    return reduce_fold(p, x, A(0), [](A a, auto v, int64_t) { return a + static_cast<A>(v) * static_cast<A>(v); });
  });
}

}  // namespace torchless::engine
