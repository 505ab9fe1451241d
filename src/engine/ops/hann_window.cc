// HannWindow (opset 17): the window 0.5 - 0.5 cos(2 pi n / N) of length `size`,
// N = size (periodic=1, default) or size - 1; output type from output_datatype (float by default).
#include "engine/ops/signal.h"

namespace torchless::engine {

void hann_window_run(Kernel& k) { cosine_window(k, 0.5, 0.5, 0.0); }

}  // namespace torchless::engine
