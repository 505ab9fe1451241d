// SequenceAt (opset 11): the tensor at `position` (negative counts from the back).
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_at_run(Kernel& k) {
  const Val& s = seq_in(k, 0);
  const int64_t n = static_cast<int64_t>(s.seq.size());
  k.set_out(0, s.seq[static_cast<size_t>(seq_position(k, 1, n, false))]);
}

}  // namespace torchless::engine
