// If (opsets 1, 11, 13, 16): runs then_branch or else_branch on the value of the bool scalar
// `cond`; the node's outputs are that branch's outputs (tensors, sequences, or from 16 optionals,
// an empty one included).
#include "engine/ops/seq.h"

namespace torchless::engine {

void if_run(Kernel& k) {
  const Tensor& c = k.in(0);
  if (c.dtype() != DType::kBool || c.numel() != 1)
    fail(Error::Code::kInvalidArgument, "the condition must be a single bool");
  const Graph& g = graph_attr(k, *data<bool>(c) ? "then_branch" : "else_branch");
  std::vector<Val> outs = k.run_graph(g, {});
  if (outs.size() != k.num_outputs())
    fail(Error::Code::kInvalidArgument,
         "the branch has " + std::to_string(outs.size()) + " outputs, the node " + std::to_string(k.num_outputs()));
  for (size_t i = 0; i < outs.size(); ++i) k.set_out_val(i, std::move(outs[i]));
}

}  // namespace torchless::engine
