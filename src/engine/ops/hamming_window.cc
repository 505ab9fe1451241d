// HammingWindow (opset 17): the window 25/46 - 21/46 cos(2 pi n / N) of length `size`,
// N = size (periodic=1, default) or size - 1; output type from output_datatype (float by default).
#include "engine/ops/signal.h"

namespace torchless::engine {

void hamming_window_run(Kernel& k) { cosine_window(k, 25.0 / 46, 21.0 / 46, 0.0); }

}  // namespace torchless::engine
