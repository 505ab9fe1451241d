// Scatter (opset 9-10, deprecated): ScatterElements without reduction.
#include "engine/kernel.h"

namespace torchless::engine {

void scatter_elements_run(Kernel& k);

void scatter_run(Kernel& k) { scatter_elements_run(k); }

}  // namespace torchless::engine
