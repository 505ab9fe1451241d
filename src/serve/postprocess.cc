#include "serve/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"

namespace torchless::serve {

namespace {

double value_at(const std::byte* p, DType t, int64_t i) {
  switch (t) {
    case DType::kFloat32: { float v; std::memcpy(&v, p + i * 4, 4); return v; }
    case DType::kFloat64: { double v; std::memcpy(&v, p + i * 8, 8); return v; }
    case DType::kFloat16: { uint16_t v; std::memcpy(&v, p + i * 2, 2); return half_to_float(v); }
    case DType::kBFloat16: { uint16_t v; std::memcpy(&v, p + i * 2, 2); return bf16_to_float(v); }
    case DType::kInt8: return static_cast<double>(reinterpret_cast<const int8_t*>(p)[i]);
    case DType::kUInt8: return static_cast<double>(reinterpret_cast<const uint8_t*>(p)[i]);
    case DType::kInt16: { int16_t v; std::memcpy(&v, p + i * 2, 2); return v; }
    case DType::kUInt16: { uint16_t v; std::memcpy(&v, p + i * 2, 2); return v; }
    case DType::kInt32: { int32_t v; std::memcpy(&v, p + i * 4, 4); return v; }
    case DType::kUInt32: { uint32_t v; std::memcpy(&v, p + i * 4, 4); return v; }
    case DType::kInt64: { int64_t v; std::memcpy(&v, p + i * 8, 8); return static_cast<double>(v); }
    case DType::kUInt64: { uint64_t v; std::memcpy(&v, p + i * 8, 8); return static_cast<double>(v); }
    case DType::kBool: return reinterpret_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
    default: return 0;
  }
}

}  // namespace

std::vector<ClassScore> top_classes(const Tensor& output, int64_t row, int k, bool softmax) {
  Tensor t = output;
  if (!t.is_contiguous()) {
    auto c = t.contiguous();
    if (!c) return {};
    t = std::move(c).value();
  }
  const int64_t rows = t.ndim() == 0 ? 1 : t.shape()[0];
  if (rows <= 0 || row >= rows) return {};
  const int64_t classes = t.numel() / rows;
  if (classes <= 0) return {};
  const std::byte* p = t.data() + static_cast<size_t>(row * classes) * dtype_size(t.dtype());
  std::vector<double> v(static_cast<size_t>(classes));
  for (int64_t i = 0; i < classes; ++i) v[static_cast<size_t>(i)] = value_at(p, t.dtype(), i);
  if (softmax) {
    const double mx = *std::max_element(v.begin(), v.end());
    double sum = 0;
    for (double& x : v) sum += (x = std::exp(x - mx));
    for (double& x : v) x /= sum;
  }
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t i = 0; i < classes; ++i) order[static_cast<size_t>(i)] = i;
  const size_t kk = std::min<size_t>(static_cast<size_t>(std::max(k, 1)), order.size());
  // NaN scores sort last.
  auto better = [&v](int64_t a, int64_t b) {
    double x = v[static_cast<size_t>(a)], y = v[static_cast<size_t>(b)];
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    if (x != y) return x > y;
    return a < b;
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(kk), order.end(), better);
  std::vector<ClassScore> out;
  for (size_t i = 0; i < kk; ++i)
    out.push_back({order[i], static_cast<float>(v[static_cast<size_t>(order[i])])});
  return out;
}

}  // namespace torchless::serve
