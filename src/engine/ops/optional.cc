// Optional (opset 15): an optional holding its input, or an empty optional (the engine's kNone
// value, as for an absent input) without one; the `type` attribute only matters to type inference.
#include "engine/kernel.h"

namespace torchless::engine {

void optional_run(Kernel& k) {
  if (k.has_input(0)) k.set_out_val(0, k.in_val(0));
}

}  // namespace torchless::engine
