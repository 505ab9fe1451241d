// ReduceLogSum: log of the sum over the `axes` attribute (keepdims, default all axes);
// versions 1, 11 and 13 compute the same. Accumulates in double.
#include <cmath>

#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_log_sum_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    std::vector<double> s =
        reduce_fold(p, x, 0.0, [](double a, auto v, int64_t) { return a + static_cast<double>(v); });
    for (double& v : s) v = std::log(v);
    return s;
  });
}

}  // namespace torchless::engine
