// ConvInteger (opset 10): Conv of 8-bit integers after subtracting zero points, int32 output.
// x_zero_point is a scalar; w_zero_point a scalar or one value per output channel [M].
#include "engine/ops/conv.h"

namespace torchless::engine {

void conv_integer_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(1);
  const ConvShape s = conv_shape(k.node, x, w);
  dispatch(Types<int8_t, uint8_t>{}, x.dtype(), k.node, [&]<class X>() {
    dispatch(Types<int8_t, uint8_t>{}, w.dtype(), k.node, [&]<class W>() {
      int64_t xz = 0;
      if (k.has_input(2)) {
        const Tensor& z = k.in(2);
        if (z.dtype() != x.dtype() || z.numel() != 1)
          fail(Error::Code::kInvalidArgument, "x_zero_point must be one value of x's type");
        xz = data<X>(z)[0];
      }
      const W* wz = nullptr;  // one value or one per output channel
      int64_t wz_count = 0;
      if (k.has_input(3)) {
        const Tensor& z = k.in(3);
        if (z.dtype() != w.dtype() || (z.numel() != 1 && z.numel() != s.m))
          fail(Error::Code::kInvalidArgument, "w_zero_point must be one value or one per output channel");
        wz = data<W>(z);
        wz_count = z.numel();
      }
      auto w_zero = [&](int64_t m) { return wz ? int64_t{wz[wz_count == 1 ? 0 : m]} : int64_t{0}; };
      const int64_t per_m = w.numel() / std::max<int64_t>(s.m, 1);
      Tensor& y = k.out(0, DType::kInt32, s.out_shape());
      const X* px = data<X>(x);
      const W* pw = data<W>(w);
      int32_t* py = mut<int32_t>(y);
      conv_loop<int64_t>(
          s, [&](int64_t i) { return int64_t{px[i]} - xz; },
          [&](int64_t i) { return int64_t{pw[i]} - w_zero(i / per_m); },
          [&](int64_t i, int64_t, int64_t acc) { py[i] = static_cast<int32_t>(acc); });
    });
  });
}

}  // namespace torchless::engine
