// Pow: base ^ exponent; the output has the base's type. Opset 1: one float type, the `broadcast`
// and `axis` attributes (elementwise_legacy.h); 7: numpy broadcasting; 12: int32/int64 bases and
// an exponent of any numeric type; 13 and 15 add bfloat16. Integer ^ integer is exact repeated
// squaring (wrapping); a negative integer exponent gives 1 / base truncated (0 unless |base| is 1).
// Other pairs are computed in double and converted to the base type (cast.h: truncating and
// saturating for integer bases).
#include "engine/ops/cast.h"
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {
namespace {

template <class B, class C, class E>
B power(C base, E e) {
  if constexpr (std::is_integral_v<B> && std::is_integral_v<E>) {
    if constexpr (std::is_signed_v<E>)
      if (e < 0) return base == 1 ? B(1) : base == -1 ? B(e % 2 == 0 ? 1 : -1) : B(0);
    using U = std::make_unsigned_t<B>;
    U r = 1, x = static_cast<U>(base);
    for (auto n = static_cast<uint64_t>(e); n; n >>= 1) {
      if (n & 1) r = static_cast<U>(r * x);
      x = static_cast<U>(x * x);
    }
    return static_cast<B>(r);
  } else {
    return convert<B>(std::pow(static_cast<double>(base), static_cast<double>(e)));
  }
}

}  // namespace

void pow_run(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor b = k.node.version < 7 ? legacy_rhs(k) : k.in(1);
  const std::vector<int64_t> shape = broadcast_shapes({a.shape(), b.shape()}, k.node);
  dispatch(Types<float, double, Half, BF16, int32_t, int64_t>{}, a.dtype(), k.node, [&]<class T>() {
    dispatch(NumericTypes{}, b.dtype(), k.node, [&]<class E>() {
      Tensor& y = k.out(0, a.dtype(), shape);
      const T* pa = data<T>(a);
      const E* pb = data<E>(b);
      T* py = mut<T>(y);
      for_each_broadcast<2>(shape, {broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape)},
                            [&](int64_t i, int64_t ia, int64_t ib) { py[i] = power<T>(load(pa[ia]), load(pb[ib])); });
    });
  });
}

}  // namespace torchless::engine
