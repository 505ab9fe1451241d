// Gemm: Y = alpha * A' * B' + beta * C with A' = transA ? A^T : A ([M, K]), B' likewise
// ([K, N]) and C broadcast unidirectionally to [M, N]. C is optional from version 11; versions
// 1 and 6 have a `broadcast` attribute, which only restricted what C may be, so C is
// broadcast for every version. Accumulates in double (64-bit integers for integer types, which
// are exact and wrap when alpha = beta = 1 and saturate otherwise).
#include "engine/ops/reduce.h"

namespace torchless::engine {

void gemm_run(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (a.ndim() != 2 || b.ndim() != 2)
    fail(Error::Code::kInvalidArgument,
         "A " + shape_text(a.shape()) + " and B " + shape_text(b.shape()) + " must be matrices");
  if (a.dtype() != b.dtype()) fail(Error::Code::kInvalidArgument, "A and B have different types");
  const bool ta = k.node.attr_int("transA", 0) != 0, tb = k.node.attr_int("transB", 0) != 0;
  const int64_t m = a.shape()[ta ? 1 : 0], kk = a.shape()[ta ? 0 : 1];
  const int64_t n = b.shape()[tb ? 0 : 1];
  if (b.shape()[tb ? 1 : 0] != kk)
    fail(Error::Code::kInvalidArgument,
         "inner dimensions of A " + shape_text(a.shape()) + " and B " + shape_text(b.shape()) + " differ");
  const double alpha = k.node.attr_float("alpha", 1.0f), beta = k.node.attr_float("beta", 1.0f);
  const std::vector<int64_t> shape{m, n};
  std::vector<int64_t> c_strides(2, 0);
  const bool has_c = k.has_input(2);
  if (has_c) {
    const Tensor& c = k.in(2);
    if (c.dtype() != a.dtype()) fail(Error::Code::kInvalidArgument, "C has another type than A");
    if (c.ndim() > 2 || broadcast_shapes({c.shape(), shape}, k.node) != shape)
      fail(Error::Code::kInvalidArgument, "C " + shape_text(c.shape()) + " does not broadcast to " + shape_text(shape));
    c_strides = broadcast_strides(c.shape(), shape);
  }
  dispatch(Types<float, double, Half, BF16, int32_t, uint32_t, int64_t, uint64_t>{}, a.dtype(), k.node, [&]<class T>() {
    using A = acc_t<T>;
    const T* pa = data<T>(a);
    const T* pb = data<T>(b);
    const T* pc = has_c ? data<T>(k.in(2)) : nullptr;
    T* py = mut<T>(k.out(0, a.dtype(), shape));
    if (m == 0 || n == 0) return;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        A acc = 0;
        for (int64_t t = 0; t < kk; ++t)
          acc += static_cast<A>(load(pa[ta ? t * m + i : i * kk + t])) *
                 static_cast<A>(load(pb[tb ? j * kk + t : t * n + j]));
        const A c = pc ? static_cast<A>(load(pc[i * c_strides[0] + j * c_strides[1]])) : A(0);
        if (std::is_integral_v<A> && alpha == 1 && beta == 1)
          py[i * n + j] = store<T>(acc + c);  // exact, wrapping
        else
          py[i * n + j] = store_value<T>(alpha * static_cast<double>(acc) + beta * static_cast<double>(c));
      }
  });
}

}  // namespace torchless::engine
