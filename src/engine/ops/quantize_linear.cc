// QuantizeLinear: y = saturate(round_half_even(x / y_scale) + y_zero_point), y's type from the
// zero point (uint8 when absent). Version 10: scalar scale and zero point; 13: they may also
// hold one value per index along `axis` (default 1). float32 x divides in float (as the ONNX
// reference does), int32 x in double.
#include "engine/ops/quant.h"

namespace torchless::engine {

void quantize_linear_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  const QuantAxis qa = quant_axis(k, xs);
  const std::vector<double> scale = quant_param(k, 1, qa.dim, "y_scale");
  const std::vector<double> zp = k.has_input(2) ? quant_param(k, 2, qa.dim, "y_zero_point") : std::vector<double>{0};
  const DType yt = k.has_input(2) ? k.in(2).dtype() : DType::kUInt8;
  dispatch(Types<float, int32_t>{}, x.dtype(), k.node, [&]<class X>() {
    dispatch(Types<int8_t, uint8_t>{}, yt, k.node, [&]<class Q>() {
      using F = std::conditional_t<std::is_same_v<X, float>, float, double>;
      const X* px = data<X>(x);
      Q* py = mut<Q>(k.out(0, yt, xs));
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t j = qa.index(i);
        const F q = std::nearbyint(static_cast<F>(px[i]) / static_cast<F>(at_or_only(scale, j)));
        py[i] = quantize_value<Q>(static_cast<double>(q) + at_or_only(zp, j));
      }
    });
  });
}

}  // namespace torchless::engine
