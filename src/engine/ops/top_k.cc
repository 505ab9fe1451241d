// TopK: the k largest (largest=1, default) or smallest elements along `axis` (default -1) as
// Values and int64 Indices, in order (ties keep the lower index first; NaN counts as the
// largest value). k is an attribute in opset 1 and a 1-element input from opset 10; largest
// and sorted come with opset 11 (results are always sorted).
#include <algorithm>
#include <numeric>

#include "engine/ops/movement.h"
#include "engine/ops/order.h"

namespace torchless::engine {

void top_k_run(Kernel& k) {
  const Tensor& x = k.in(0);
  int64_t count = 0;
  if (k.node.version < 10) {
    count = k.node.attr_int("k", -1);
  } else {
    const std::vector<int64_t> v = k.ints(1);
    if (v.size() != 1) fail(Error::Code::kInvalidArgument, "K must hold one value");
    count = v[0];
  }
  if (x.ndim() == 0) fail(Error::Code::kInvalidArgument, "TopK needs rank >= 1");
  const size_t axis =
      static_cast<size_t>(norm_axis(k.node.attr_int("axis", -1), static_cast<int64_t>(x.ndim()), k.node));
  const int64_t dim = x.shape()[axis];
  if (count < 0 || count > dim)
    fail(Error::Code::kInvalidArgument, "k = " + std::to_string(count) + " is not in [0, " + std::to_string(dim) + "]");
  const bool largest = k.node.attr_int("largest", 1) != 0;
  std::vector<int64_t> shape = x.shape();
  shape[axis] = count;
  Tensor& values = k.out(0, x.dtype(), shape);
  Tensor& indices = k.out(1, DType::kInt64, shape);
  const int64_t outer = span_size(x.shape(), 0, axis);
  const int64_t inner = span_size(x.shape(), axis + 1, x.ndim());
  dispatch(NumericTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* src = data<T>(x);
    T* val = mut<T>(values);
    int64_t* idx = mut<int64_t>(indices);
    std::vector<int64_t> order(static_cast<size_t>(dim));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t t) { return load(src[(o * dim + t) * inner + i]); };
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          return largest ? value_less(at(b), at(a)) : value_less(at(a), at(b));
        });
        for (int64_t j = 0; j < count; ++j) {
          const int64_t pos = (o * count + j) * inner + i;
          idx[pos] = order[static_cast<size_t>(j)];
          val[pos] = src[(o * dim + order[static_cast<size_t>(j)]) * inner + i];
        }
      }
  });
}

}  // namespace torchless::engine
