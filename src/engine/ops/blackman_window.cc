// BlackmanWindow (opset 17): a generalized cosine window 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
// of length `size`, N = size (periodic=1, default) or size - 1; output type from output_datatype.
#include "engine/ops/signal.h"

namespace torchless::engine {

void blackman_window_run(Kernel& k) { cosine_window(k, 0.42, 0.5, 0.08); }

}  // namespace torchless::engine
