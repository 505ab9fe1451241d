// Loop (opsets 1, 11, 13, 16): runs `body` while the optional trip count M is not reached and
// the optional condition holds (without a condition input, the body's condition output is
// ignored; with neither input the loop could never end and is refused). Body inputs: iteration
// number, condition, N carried values; body outputs: condition, N carried values, K scan outputs
// stacked on a new axis 0. From 13 carried values may be sequences, from 16 optionals.
// Iterations are bounded (engine.max_loop_iterations, 2^20) and charged to the run's budget:
// besides what the body allocates, each one costs kIterationBytes and its scan outputs grow a
// budget-charged doubling buffer, so a huge trip count ends with kLimitExceeded instead of
// running for hours.
#include "engine/ops/seq.h"

namespace torchless::engine {

namespace {
constexpr int64_t kIterationBytes = 256;
constexpr uint64_t kMaxIterations = uint64_t{1} << 20;
}  // namespace

void loop_run(Kernel& k) {
  const Graph& body = graph_attr(k, "body");
  const size_t n_carried = k.num_inputs() >= 2 ? k.num_inputs() - 2 : 0;
  if (body.inputs.size() != n_carried + 2)
    fail(Error::Code::kInvalidArgument,
         "the body has " + std::to_string(body.inputs.size()) + " inputs, expected " + std::to_string(n_carried + 2));
  if (body.outputs.size() < n_carried + 1) fail(Error::Code::kInvalidArgument, "the body has too few outputs");
  const size_t n_scan = body.outputs.size() - 1 - n_carried;
  if (k.num_outputs() > n_carried + n_scan) fail(Error::Code::kInvalidArgument, "the node has too many outputs");

  const bool has_m = k.has_input(0), has_cond = k.has_input(1);
  if (!has_m && !has_cond)
    fail(Error::Code::kInvalidArgument, "a Loop without trip count and condition input never ends");
  int64_t m = 0;
  if (has_m) {
    const std::vector<int64_t> mv = k.ints(0);
    if (mv.size() != 1) fail(Error::Code::kInvalidArgument, "the trip count must hold one value");
    m = mv[0];
  }
  bool cond = has_cond ? k.scalar(1) != 0 : true;
  std::vector<Val> carried(n_carried);
  for (size_t i = 0; i < n_carried; ++i) carried[i] = k.in_val(2 + i);
  std::vector<Stacker> scans(n_scan);

  for (int64_t it = 0; (!has_m || it < m) && cond; ++it) {
    std::vector<Val> ins;
    ins.reserve(n_carried + 2);
    check_limit("engine.max_loop_iterations", kMaxIterations, static_cast<uint64_t>(it) + 1, "too many Loop iterations");
    k.charge(kIterationBytes);
    ins.push_back(Val::of(scalar_tensor_i64(k, it)));
    ins.push_back(Val::of(scalar_tensor_bool(k, cond)));
    for (Val& v : carried) ins.push_back(std::move(v));
    std::vector<Val> outs = k.run_graph(body, std::move(ins));
    if (has_cond) {
      if (!outs[0].is_tensor() || outs[0].tensor.numel() != 1)
        fail(Error::Code::kInvalidArgument, "the body's condition output must be a single value");
      double c = 0;
      dispatch(AllTypes{}, outs[0].tensor.dtype(), k.node,
               [&]<class T>() { c = static_cast<double>(load(data<T>(outs[0].tensor)[0])); });
      cond = c != 0;
    }
    for (size_t i = 0; i < n_carried; ++i) carried[i] = std::move(outs[1 + i]);
    for (size_t j = 0; j < n_scan; ++j) {
      const Val& v = outs[1 + n_carried + j];
      if (!v.is_tensor()) fail(Error::Code::kInvalidArgument, "a scan output is not a tensor");
      scans[j].push(k, v.tensor);
    }
  }
  for (size_t i = 0; i < n_carried && i < k.num_outputs(); ++i) k.set_out_val(i, std::move(carried[i]));
  for (size_t j = 0; j < n_scan && n_carried + j < k.num_outputs(); ++j)
    if (k.wants_output(n_carried + j)) k.set_out(n_carried + j, scans[j].finish(k));
}

}  // namespace torchless::engine
