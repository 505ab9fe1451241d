// Unique: the distinct elements of the flattened input, or the distinct slices along `axis`,
// as Y, with int64 outputs indices (first occurrence of each), inverse_indices (the entry of
// Y of each input element or slice) and counts. sorted=1 (default) orders Y ascending
// (slices lexicographically), sorted=0 by first occurrence.
#include <algorithm>
#include <numeric>

#include "engine/ops/movement.h"
#include "engine/ops/order.h"

namespace torchless::engine {

void unique_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const bool has_axis = k.node.attr("axis") != nullptr;
  const std::vector<int64_t> shape = has_axis ? x.shape() : std::vector<int64_t>{x.numel()};
  const size_t axis =
      has_axis ? static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(x.ndim()), k.node)) : 0;
  if (shape.empty()) fail(Error::Code::kInvalidArgument, "cannot take unique slices of a scalar");
  const bool sorted = k.node.attr_int("sorted", 1) != 0;
  const int64_t dim = shape[axis];
  const int64_t outer = span_size(shape, 0, axis);
  const int64_t inner = span_size(shape, axis + 1, shape.size());

  // Slice positions ordered by value (stable: equal slices keep their input order).
  std::vector<int64_t> order(static_cast<size_t>(dim));
  std::iota(order.begin(), order.end(), 0);
  std::vector<bool> equal_next(order.size(), false);  // order[i] equals order[i + 1]
  dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* p = data<T>(x);
    auto cmp = [&](int64_t a, int64_t b) {  // -1, 0, 1 lexicographically
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const auto va = load(p[(o * dim + a) * inner + i]), vb = load(p[(o * dim + b) * inner + i]);
          if (value_less(va, vb)) return -1;
          if (value_less(vb, va)) return 1;
        }
      return 0;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
    for (size_t i = 0; i + 1 < order.size(); ++i) equal_next[i] = cmp(order[i], order[i + 1]) == 0;
  });
  // Groups of equal slices: first occurrence, count, members.
  std::vector<int64_t> first, counts, group_of(static_cast<size_t>(dim));
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || !equal_next[i - 1]) {
      first.push_back(order[i]);
      counts.push_back(0);
    }
    ++counts.back();
    group_of[static_cast<size_t>(order[i])] = static_cast<int64_t>(first.size()) - 1;
  }
  std::vector<int64_t> rank_of(first.size());  // group -> position in Y
  std::iota(rank_of.begin(), rank_of.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(first.size());
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)]; });
    for (size_t pos = 0; pos < by_first.size(); ++pos)
      rank_of[static_cast<size_t>(by_first[pos])] = static_cast<int64_t>(pos);
  }
  const int64_t u = static_cast<int64_t>(first.size());
  std::vector<int64_t> yshape = shape;
  yshape[axis] = u;
  Tensor& y = k.out(0, x.dtype(), yshape);
  const size_t es = elem_size(x);
  const size_t chunk = static_cast<size_t>(inner) * es;
  std::vector<int64_t> indices(static_cast<size_t>(u)), count_out(static_cast<size_t>(u));
  for (size_t g = 0; g < first.size(); ++g) {
    const int64_t pos = rank_of[g];
    indices[static_cast<size_t>(pos)] = first[g];
    count_out[static_cast<size_t>(pos)] = counts[g];
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(bytes(y) + static_cast<size_t>(o * u + pos) * chunk,
                  x.data() + static_cast<size_t>(o * dim + first[g]) * chunk, chunk);
  }
  auto int_out = [&](size_t i, const std::vector<int64_t>& v) {
    if (i >= k.num_outputs()) return;
    Tensor& t = k.out(i, DType::kInt64, {static_cast<int64_t>(v.size())});
    std::copy(v.begin(), v.end(), mut<int64_t>(t));
  };
  std::vector<int64_t> inverse(static_cast<size_t>(dim));
  for (size_t s = 0; s < inverse.size(); ++s) inverse[s] = rank_of[static_cast<size_t>(group_of[s])];
  int_out(1, indices);
  int_out(2, inverse);
  int_out(3, count_out);
}

}  // namespace torchless::engine
