// DequantizeLinear: y = (x - x_zero_point) * x_scale as float32, for int8/uint8/int32 x (int32
// has no zero point). Version 10: scalar scale and zero point; 13: they may also hold one
// value per index along `axis` (default 1).
#include "engine/ops/quant.h"

namespace torchless::engine {

void dequantize_linear_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  const QuantAxis qa = quant_axis(k, xs);
  const std::vector<double> scale = quant_param(k, 1, qa.dim, "x_scale");
  const std::vector<double> zp = k.has_input(2) ? quant_param(k, 2, qa.dim, "x_zero_point") : std::vector<double>{0};
  if (k.has_input(2) && k.in(2).dtype() != x.dtype())
    fail(Error::Code::kInvalidArgument, "x_zero_point has another type than x");
  dispatch(Types<int8_t, uint8_t, int32_t>{}, x.dtype(), k.node, [&]<class X>() {
    const X* px = data<X>(x);
    float* py = mut<float>(k.out(0, DType::kFloat32, xs));
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t j = qa.index(i);
      py[i] = (static_cast<float>(px[i]) - static_cast<float>(at_or_only(zp, j))) *
              static_cast<float>(at_or_only(scale, j));
    }
  });
}

}  // namespace torchless::engine
