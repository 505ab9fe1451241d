// OptionalGetElement (opset 15): the tensor or sequence an optional holds; an empty optional is an error.
#include "engine/kernel.h"

namespace torchless::engine {

void optional_get_element_run(Kernel& k) {
  if (!k.has_input(0)) fail(Error::Code::kInvalidArgument, "OptionalGetElement of an empty optional");
  k.set_out_val(0, k.in_val(0));
}

}  // namespace torchless::engine
