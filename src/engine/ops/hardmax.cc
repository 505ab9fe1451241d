// Hardmax: 1 at the first maximum of each group, 0 elsewhere (softmax.h: opset < 13 coerces
// to 2-D at axis, 13 uses the single axis).
#include <algorithm>

#include "engine/ops/softmax.h"

namespace torchless::engine {

void hardmax_run(Kernel& k) {
  softmax_rows(k, [](std::vector<double>& row) {
    if (row.empty()) return;
    const auto first = std::max_element(row.begin(), row.end()) - row.begin();
    std::fill(row.begin(), row.end(), 0.0);
    row[first] = 1;
  });
}

}  // namespace torchless::engine
