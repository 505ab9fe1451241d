// ArgMin: the index of the minimum along `axis` (int64); keepdims; select_last_index from
// version 12 picks the last of equal minima instead of the first.
#include "engine/ops/reduce.h"

namespace torchless::engine {

void arg_min_run(Kernel& k) { arg_reduce_run<false>(k); }

}  // namespace torchless::engine
