// ConcatFromSequence (opset 11): concatenates the sequence's tensors along `axis`, or stacks them
// along a new axis (new_axis=1, axis then in [-r-1, r]).
#include "engine/ops/seq.h"

namespace torchless::engine {

void concat_from_sequence_run(Kernel& k) {
  const Val& s = seq_in(k, 0);
  if (s.seq.empty()) fail(Error::Code::kInvalidArgument, "ConcatFromSequence of an empty sequence");
  const bool stack = k.node.attr_int("new_axis", 0) != 0;
  const int64_t rank = static_cast<int64_t>(s.seq[0].ndim());
  const Attr* a = k.node.attr("axis");
  if (!a) fail(Error::Code::kInvalidArgument, "ConcatFromSequence needs the axis attribute");
  if (stack)
    k.set_out(0, stack_axis(k, s.seq, norm_axis(a->i, rank + 1, k.node)));
  else
    k.set_out(0, concat_axis(k, s.seq, norm_axis(a->i, rank, k.node)));
}

}  // namespace torchless::engine
