// DynamicQuantizeLinear (opset 11): uint8 quantization of float32 x with a computed scale and
// zero point: scale = (max(0, max(x)) - min(0, min(x))) / 255, zero_point =
// saturate(round_half_even(-min(0, min(x)) / scale)), y = saturate(round_half_even(x / scale)
// + zero_point). Computed in float32 like the ONNX reference; an all-zero x gives scale 0 and
// y = zero_point = 0.
#include <algorithm>

#include "engine/ops/quant.h"

namespace torchless::engine {

void dynamic_quantize_linear_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.dtype() != DType::kFloat32) unsupported_dtype(k.node, x.dtype());
  const float* px = data<float>(x);
  const int64_t n = x.numel();
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, px[i]);
    hi = std::max(hi, px[i]);
  }
  const float scale = (hi - lo) / 255.0f;
  const uint8_t zp = scale == 0 ? 0 : quantize_value<uint8_t>((0.0f - lo) / scale);
  uint8_t* py = mut<uint8_t>(k.out(0, DType::kUInt8, x.shape()));
  for (int64_t i = 0; i < n; ++i)
    py[i] = scale == 0 ? 0 : quantize_value<uint8_t>(std::nearbyint(px[i] / scale) + static_cast<float>(zp));
  mut<float>(k.out(1, DType::kFloat32, {}))[0] = scale;
  mut<uint8_t>(k.out(2, DType::kUInt8, {}))[0] = zp;
}

}  // namespace torchless::engine
