// SequenceLength (opset 11): the number of tensors in the sequence, an int64 scalar.
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_length_run(Kernel& k) {
  const Val& s = seq_in(k, 0);
  *mut<int64_t>(k.out(0, DType::kInt64, {})) = static_cast<int64_t>(s.seq.size());
}

}  // namespace torchless::engine
