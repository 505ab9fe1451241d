// SequenceMap (opset 17): runs `body` once per element of the input sequence; each further
// input is a sequence of the same length (element i is passed) or a tensor (passed whole).
// Each body output is collected into an output sequence.
#include "engine/ops/seq.h"

namespace torchless::engine {

void sequence_map_run(Kernel& k) {
  const Graph& body = graph_attr(k, "body");
  const Val& s0 = seq_in(k, 0);
  const size_t n = s0.seq.size();
  for (size_t i = 1; i < k.num_inputs(); ++i) {
    const Val& v = k.in_val(i);
    if (v.kind == Val::Kind::kSequence && v.seq.size() != n)
      fail(Error::Code::kInvalidArgument, "input sequences have different lengths");
    if (v.kind == Val::Kind::kNone) fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " is missing");
  }
  if (body.inputs.size() != k.num_inputs() || body.outputs.size() != k.num_outputs())
    fail(Error::Code::kInvalidArgument, "the body's inputs and outputs do not match the node's");
  std::vector<std::vector<Tensor>> outs(k.num_outputs());
  for (size_t it = 0; it < n; ++it) {
    std::vector<Val> ins;
    for (size_t i = 0; i < k.num_inputs(); ++i) {
      const Val& v = k.in_val(i);
      ins.push_back(v.kind == Val::Kind::kSequence ? Val::of(v.seq[it]) : v);
    }
    std::vector<Val> res = k.run_graph(body, std::move(ins));
    for (size_t j = 0; j < res.size(); ++j) {
      if (!res[j].is_tensor()) fail(Error::Code::kInvalidArgument, "a body output is not a tensor");
      outs[j].push_back(std::move(res[j].tensor));
    }
  }
  for (size_t j = 0; j < outs.size(); ++j) {
    const DType elem = outs[j].empty() ? s0.elem : outs[j][0].dtype();
    k.set_out_val(j, Val::sequence(std::move(outs[j]), elem));
  }
}

}  // namespace torchless::engine
