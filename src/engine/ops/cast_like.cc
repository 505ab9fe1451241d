// CastLike: x converted to the type of input 1 (cast.h), opset 15.
#include "engine/ops/cast.h"

namespace torchless::engine {

void cast_like_run(Kernel& k) { cast_to(k, k.in(0), k.in(1).dtype()); }

}  // namespace torchless::engine
