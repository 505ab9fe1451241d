// OptionalHasElement (opset 15): a bool scalar, true when the optional input holds a tensor or a
// sequence (an empty optional and an absent input both give false).
#include "engine/kernel.h"

namespace torchless::engine {

void optional_has_element_run(Kernel& k) { *mut<bool>(k.out(0, DType::kBool, {})) = k.has_input(0); }

}  // namespace torchless::engine
