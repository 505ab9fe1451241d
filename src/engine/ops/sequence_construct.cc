// SequenceConstruct (opset 11): a sequence of its tensor inputs, which share one dtype.
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_construct_run(Kernel& k) {
  std::vector<Tensor> items;
  for (size_t i = 0; i < k.num_inputs(); ++i) {
    items.push_back(k.in(i));
    if (items.back().dtype() != items[0].dtype())
      fail(Error::Code::kInvalidArgument, "sequence elements have different types");
  }
  if (items.empty()) fail(Error::Code::kInvalidArgument, "SequenceConstruct needs at least one input");
  const DType elem = items[0].dtype();
  k.set_out_val(0, Val::sequence(std::move(items), elem));
}

}  // namespace torchless::engine
