// Scan: runs `body` once per slice of the scan inputs, carrying N state values; the body's K
// further outputs are stacked into the scan outputs.
// - opset 8: inputs (sequence_lens?, N states, M scan inputs), all batched on axis 0 with the
//   scan axis 1; `directions` per scan input; each batch runs sequence_lens[b] steps (default:
//   all), scan outputs past that are zero.
// - opset 9, 11, 16: no batch axis; scan_input_axes / scan_input_directions /
//   scan_output_axes / scan_output_directions (negative axes from 11).
#include "engine/ops/seq.h"

namespace torchless::engine {

namespace {

struct ScanSpec {
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

// One unbatched scan: states (N) and scan inputs (M) -> final states and K scan outputs.
// `len` steps are run (<= the scan inputs' length); outputs are padded with zeros to `pad_to`.
std::vector<Tensor> scan_once(Kernel& k, const Graph& body, std::vector<Val> states, const std::vector<Tensor>& xs,
                              const ScanSpec& sp, int64_t len, int64_t pad_to, size_t n_out_scan) {
  const size_t n_state = states.size();
  std::vector<std::vector<Tensor>> outs(n_out_scan);
  for (int64_t t = 0; t < len; ++t) {
    std::vector<Val> ins = std::move(states);
    for (size_t j = 0; j < xs.size(); ++j) {
      const int64_t axis = sp.in_axes[j];
      ins.push_back(Val::of(take_axis(k, xs[j], axis, sp.in_dirs[j] ? len - 1 - t : t)));
    }
    std::vector<Val> res = k.run_graph(body, std::move(ins));
    if (res.size() != n_state + n_out_scan) fail(Error::Code::kInvalidArgument, "the body has the wrong output count");
    states.assign(res.begin(), res.begin() + static_cast<std::ptrdiff_t>(n_state));
    for (size_t j = 0; j < n_out_scan; ++j) {
      if (!res[n_state + j].is_tensor()) fail(Error::Code::kInvalidArgument, "a scan output is not a tensor");
      outs[j].push_back(res[n_state + j].tensor);
    }
  }
  std::vector<Tensor> result;
  for (Val& s : states) {
    if (!s.is_tensor()) fail(Error::Code::kInvalidArgument, "a scan state is not a tensor");
    result.push_back(s.tensor);
  }
  for (size_t j = 0; j < n_out_scan; ++j) {
    if (outs[j].empty()) fail(Error::Code::kInvalidArgument, "Scan over zero steps has no output shape");
    while (static_cast<int64_t>(outs[j].size()) < pad_to)
      outs[j].push_back(k.alloc(outs[j][0].dtype(), outs[j][0].shape()));
    if (sp.out_dirs[j]) std::reverse(outs[j].begin(), outs[j].end());
    const int64_t axis = norm_axis(sp.out_axes[j], static_cast<int64_t>(outs[j][0].ndim()) + 1, k.node);
    result.push_back(stack_axis(k, outs[j], axis));
  }
  return result;
}

std::vector<int64_t> per_item(const Node& node, const char* name, size_t n) {
  std::vector<int64_t> v = node.attr_ints(name);
  if (v.empty()) v.assign(n, 0);
  if (v.size() != n)
    fail(Error::Code::kInvalidArgument,
         std::string(name) + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(n));
  return v;
}

}  // namespace

void scan_run(Kernel& k) {
  const Graph& body = graph_attr(k, "body");
  const int64_t m = k.node.attr_int("num_scan_inputs", -1);
  const bool v8 = k.node.version < 9;
  const size_t first = v8 ? 1 : 0;
  if (m < 1 || static_cast<size_t>(m) + first > k.num_inputs())
    fail(Error::Code::kInvalidArgument, "num_scan_inputs " + std::to_string(m) + " does not fit the inputs");
  const size_t n_state = k.num_inputs() - first - static_cast<size_t>(m);
  if (body.inputs.size() != n_state + static_cast<size_t>(m))
    fail(Error::Code::kInvalidArgument, "the body has " + std::to_string(body.inputs.size()) + " inputs, expected " +
                                            std::to_string(n_state + static_cast<size_t>(m)));
  if (body.outputs.size() < n_state) fail(Error::Code::kInvalidArgument, "the body has too few outputs");
  const size_t n_out_scan = body.outputs.size() - n_state;
  if (k.num_outputs() != n_state + n_out_scan)
    fail(Error::Code::kInvalidArgument, "the node has " + std::to_string(k.num_outputs()) + " outputs, expected " +
                                            std::to_string(n_state + n_out_scan));

  ScanSpec sp;
  std::vector<Tensor> xs;
  for (size_t j = 0; j < static_cast<size_t>(m); ++j) xs.push_back(k.in(first + n_state + j));
  if (v8) {
    sp.in_axes.assign(xs.size(), 0);
    sp.in_dirs = per_item(k.node, "directions", xs.size());
    sp.out_axes.assign(n_out_scan, 0);
    sp.out_dirs.assign(n_out_scan, 0);
  } else {
    sp.in_axes = per_item(k.node, "scan_input_axes", xs.size());
    sp.in_dirs = per_item(k.node, "scan_input_directions", xs.size());
    sp.out_axes = per_item(k.node, "scan_output_axes", n_out_scan);
    sp.out_dirs = per_item(k.node, "scan_output_directions", n_out_scan);
  }

  if (!v8) {
    int64_t len = -1;
    for (size_t j = 0; j < xs.size(); ++j) {
      sp.in_axes[j] = norm_axis(sp.in_axes[j], static_cast<int64_t>(xs[j].ndim()), k.node);
      const int64_t n = xs[j].ndim() ? xs[j].shape()[static_cast<size_t>(sp.in_axes[j])] : -2;
      if (n < 0 || (len >= 0 && n != len))
        fail(Error::Code::kInvalidArgument, "scan inputs have different lengths along their scan axes");
      len = n;
    }
    std::vector<Val> states;
    for (size_t i = 0; i < n_state; ++i) states.push_back(Val::of(k.in(i)));
    std::vector<Tensor> res = scan_once(k, body, std::move(states), xs, sp, len, len, n_out_scan);
    for (size_t i = 0; i < res.size(); ++i) k.set_out(i, std::move(res[i]));
    return;
  }

  // opset 8: batch axis 0 everywhere, scan axis 1 of the scan inputs.
  int64_t batch = -1, len = -1;
  for (size_t i = 0; i < n_state + xs.size(); ++i) {
    const Tensor& t = k.in(first + i);
    const size_t need = i < n_state ? 1 : 2;
    if (t.ndim() < need) fail(Error::Code::kInvalidArgument, "a Scan-8 input lacks its batch (and scan) axis");
    if (batch >= 0 && t.shape()[0] != batch) fail(Error::Code::kInvalidArgument, "inputs have different batch sizes");
    batch = t.shape()[0];
    if (i >= n_state) {
      if (len >= 0 && t.shape()[1] != len) fail(Error::Code::kInvalidArgument, "scan inputs have different lengths");
      len = t.shape()[1];
    }
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), len);
  if (k.has_input(0)) {
    lens = k.ints(0);
    if (static_cast<int64_t>(lens.size()) != batch)
      fail(Error::Code::kInvalidArgument, "sequence_lens must have one entry per batch");
    for (int64_t l : lens)
      if (l < 0 || l > len)
        fail(Error::Code::kInvalidArgument, "sequence length " + std::to_string(l) + " is out of range");
  }
  std::vector<std::vector<Tensor>> per_out(n_state + n_out_scan);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Val> states;
    for (size_t i = 0; i < n_state; ++i) states.push_back(Val::of(take_axis(k, k.in(first + i), 0, b)));
    std::vector<Tensor> xb;
    for (const Tensor& x : xs) xb.push_back(take_axis(k, x, 0, b));
    std::vector<Tensor> res =
        scan_once(k, body, std::move(states), xb, sp, lens[static_cast<size_t>(b)], len, n_out_scan);
    for (size_t i = 0; i < res.size(); ++i) per_out[i].push_back(std::move(res[i]));
  }
  for (size_t i = 0; i < per_out.size(); ++i) k.set_out(i, stack_axis(k, per_out[i], 0));
}

}  // namespace torchless::engine
