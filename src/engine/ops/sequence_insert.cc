// SequenceInsert (opset 11): the sequence with `tensor` inserted before `position` (default: appended;
// negative counts from the back). The tensor must have the sequence's element type.
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_insert_run(Kernel& k) {
  const Val& s = seq_in(k, 0);
  const Tensor& t = k.in(1);
  if (t.dtype() != s.elem)
    fail(Error::Code::kInvalidArgument, "inserting a " + std::string(dtype_name(t.dtype())) + " tensor into a " +
                                            std::string(dtype_name(s.elem)) + " sequence");
  const int64_t n = static_cast<int64_t>(s.seq.size());
  const int64_t pos = k.has_input(2) ? seq_position(k, 2, n, true) : n;
  std::vector<Tensor> items = s.seq;
  items.insert(items.begin() + pos, t);
  k.set_out_val(0, Val::sequence(std::move(items), s.elem));
}

}  // namespace torchless::engine
