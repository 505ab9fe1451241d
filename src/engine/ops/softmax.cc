// Softmax: exp(x - max) / sum(exp(x - max)) over each group (softmax.h: opset < 13 coerces to
// 2-D at axis, 13 uses the single axis). Computed in double.
#include <algorithm>
#include <cmath>

#include "engine/ops/softmax.h"

namespace torchless::engine {

void softmax_run(Kernel& k) {
  softmax_rows(k, [](std::vector<double>& row) {
    if (row.empty()) return;
    const double m = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (double& v : row) sum += v = std::exp(v - m);
    for (double& v : row) v /= sum;
  });
}

}  // namespace torchless::engine
