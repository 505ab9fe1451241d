// ArgMax: the index of the maximum along `axis` (int64); keepdims; select_last_index from
// version 12 picks the last of equal maxima instead of the first.
#include "engine/ops/reduce.h"

namespace torchless::engine {

void arg_max_run(Kernel& k) { arg_reduce_run<true>(k); }

}  // namespace torchless::engine
