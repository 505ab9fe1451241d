// SequenceErase (opset 11): the sequence without the tensor at `position` (default: the last one).
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_erase_run(Kernel& k) {
  const Val& s = seq_in(k, 0);
  const int64_t n = static_cast<int64_t>(s.seq.size());
  if (n == 0) fail(Error::Code::kInvalidArgument, "erasing from an empty sequence");
  const int64_t pos = k.has_input(1) ? seq_position(k, 1, n, false) : n - 1;
  std::vector<Tensor> items = s.seq;
  items.erase(items.begin() + pos);
  k.set_out_val(0, Val::sequence(std::move(items), s.elem));
}

}  // namespace torchless::engine
