// LayerNormalization (opset 17): normalizes X over the axes [axis, rank) (axis default -1,
// negative allowed): y = (x - mean) * inv_std_dev * Scale + B, inv_std_dev =
// 1 / sqrt(var + epsilon) with the biased variance. Scale and the optional B broadcast
// unidirectionally to X.shape[axis:]. Optional outputs Mean and InvStdDev have shape
// X.shape[:axis] + [1, ...] and the type of stash_type (1 float, 11 double). Accumulates in
// double.
#include <cmath>

#include "engine/ops/norm.h"

namespace torchless::engine {

namespace {

// Strides of parameter input i read at each index of the normalized shape `norm`.
std::vector<int64_t> param_strides(const Kernel& k, size_t i, const std::vector<int64_t>& norm) {
  const auto& s = k.in(i).shape();
  bool ok = s.size() <= norm.size();
  for (size_t d = 0; ok && d < s.size(); ++d) ok = s[d] == 1 || s[d] == norm[norm.size() - s.size() + d];
  if (!ok)
    fail(Error::Code::kInvalidArgument, "parameter " + shape_text(s) + " does not broadcast to " + shape_text(norm));
  return broadcast_strides(s, norm);
}

}  // namespace

void layer_normalization_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  const auto rank = static_cast<int64_t>(xs.size());
  if (rank == 0) fail(Error::Code::kInvalidArgument, "input must have rank >= 1");
  const int64_t axis = norm_axis(k.node.attr_int("axis", -1), rank, k.node);
  const double eps = k.node.attr_float("epsilon", 1e-5f);
  const int64_t stash = k.node.attr_int("stash_type", 1);
  if (stash != 1 && stash != 11) fail(Error::Code::kUnsupported, "stash_type " + std::to_string(stash));
  const std::vector<int64_t> norm(xs.begin() + axis, xs.end());
  const int64_t cols = numel(norm), rows = numel(std::vector<int64_t>(xs.begin(), xs.begin() + axis));
  if (cols == 0) fail(Error::Code::kInvalidArgument, "the normalized dims " + shape_text(norm) + " are empty");
  const std::vector<double> scale = doubles_of(k, 1, -1, "Scale");
  const std::vector<double> bias = k.has_input(2) ? doubles_of(k, 2, -1, "B") : std::vector<double>{0};
  // Element j of a row -> parameter offsets.
  std::vector<int64_t> s_off(static_cast<size_t>(cols)), b_off(static_cast<size_t>(cols), 0);
  for_each_broadcast<1>(norm, {param_strides(k, 1, norm)}, [&](int64_t j, int64_t o) { s_off[j] = o; });
  if (k.has_input(2))
    for_each_broadcast<1>(norm, {param_strides(k, 2, norm)}, [&](int64_t j, int64_t o) { b_off[j] = o; });
  std::vector<double> y(static_cast<size_t>(x.numel())), mean(rows), inv(rows);
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = px + r * cols;
      double m = 0, var = 0;
      for (int64_t j = 0; j < cols; ++j) m += load(row[j]);
      m /= static_cast<double>(cols);
      for (int64_t j = 0; j < cols; ++j) var += (load(row[j]) - m) * (load(row[j]) - m);
      var /= static_cast<double>(cols);
      mean[r] = m;
      inv[r] = 1 / std::sqrt(var + eps);
      for (int64_t j = 0; j < cols; ++j)
        y[r * cols + j] = (load(row[j]) - m) * inv[r] * scale[s_off[j]] + bias[b_off[j]];
    }
  });
  out_doubles(k, 0, x.dtype(), xs, y);
  std::vector<int64_t> stat_shape(xs.begin(), xs.begin() + axis);
  stat_shape.resize(xs.size(), 1);
  const DType st = stash == 1 ? DType::kFloat32 : DType::kFloat64;
  if (k.wants_output(1)) out_doubles(k, 1, st, stat_shape, mean);
  if (k.wants_output(2)) out_doubles(k, 2, st, stat_shape, inv);
}

}  // namespace torchless::engine
