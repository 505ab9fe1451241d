// QLinearConv (opset 10): Conv of quantized 8-bit x and w (zero points subtracted, int32
// accumulation plus the optional int32 bias B [M]), requantized to y's type:
// y = saturate(round_half_even(acc * x_scale * w_scale[m] / y_scale) + y_zero_point).
// w_scale / w_zero_point are one value or one per output channel.
#include "engine/ops/conv.h"
#include "engine/ops/quant.h"

namespace torchless::engine {

void q_linear_conv_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(3);
  const ConvShape s = conv_shape(k.node, x, w);
  const double x_scale = quant_param(k, 1, 1, "x_scale")[0];
  const double x_zp = k.has_input(2) ? quant_param(k, 2, 1, "x_zero_point")[0] : 0;
  const std::vector<double> w_scale = quant_param(k, 4, s.m, "w_scale");
  const std::vector<double> w_zp = k.has_input(5) ? quant_param(k, 5, s.m, "w_zero_point") : std::vector<double>{0};
  const double y_scale = quant_param(k, 6, 1, "y_scale")[0];
  const double y_zp = k.has_input(7) ? quant_param(k, 7, 1, "y_zero_point")[0] : 0;
  if (y_scale == 0) fail(Error::Code::kInvalidArgument, "y_scale is 0");
  const int32_t* bias = nullptr;
  if (k.has_input(8)) {
    const Tensor& b = k.in(8);
    if (b.dtype() != DType::kInt32 || b.numel() != s.m)
      fail(Error::Code::kInvalidArgument, "B must hold " + std::to_string(s.m) + " int32 values");
    bias = data<int32_t>(b);
  }
  const DType yt = k.has_input(7) ? k.in(7).dtype() : x.dtype();
  const int64_t per_m = w.numel() / std::max<int64_t>(s.m, 1);
  dispatch(Types<int8_t, uint8_t>{}, x.dtype(), k.node, [&]<class X>() {
    dispatch(Types<int8_t, uint8_t>{}, w.dtype(), k.node, [&]<class W>() {
      dispatch(Types<int8_t, uint8_t>{}, yt, k.node, [&]<class Y>() {
        Tensor& y = k.out(0, yt, s.out_shape());
        const X* px = data<X>(x);
        const W* pw = data<W>(w);
        Y* py = mut<Y>(y);
        const auto xz = static_cast<int64_t>(x_zp);
        conv_loop<int64_t>(
            s, [&](int64_t i) { return int64_t{px[i]} - xz; },
            [&](int64_t i) { return int64_t{pw[i]} - static_cast<int64_t>(at_or_only(w_zp, i / per_m)); },
            [&](int64_t i, int64_t m, int64_t acc) {
              const double real = static_cast<double>(acc + (bias ? bias[m] : 0)) * x_scale * at_or_only(w_scale, m);
              py[i] = quantize_value<Y>(real / y_scale + y_zp);
            });
      });
    });
  });
}

}  // namespace torchless::engine
