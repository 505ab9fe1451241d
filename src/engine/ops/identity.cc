// Identity: the input itself (tensor, sequence or optional), no copy.
#include "engine/kernel.h"

namespace torchless::engine {

void identity_run(Kernel& k) { k.set_out_val(0, k.in_val(0)); }

}  // namespace torchless::engine
