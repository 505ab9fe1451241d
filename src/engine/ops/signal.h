// Shared by the opset-17 signal ops (windows, DFT, STFT, MelWeightMatrix): a direct O(n^2)
// complex DFT in double, scalar integer inputs, and storing doubles into an output dtype given
// as an ONNX `output_datatype` code.
#pragma once

#include <cmath>
#include <complex>
#include <numbers>

#include "engine/kernel.h"
#include "engine/proto.h"

namespace torchless::engine {

// out[f] = sum_j in[j] e^(-+2 pi i j f / n) for f < out.size() (in zero-padded or cut to n);
// `inverse` uses the + sign and divides by n.
inline void dft_1d(const std::vector<std::complex<double>>& in, int64_t n, bool inverse,
                   std::vector<std::complex<double>>& out) {
  const double sign = inverse ? 1.0 : -1.0;
  const int64_t m = std::min<int64_t>(n, static_cast<int64_t>(in.size()));
  for (size_t f = 0; f < out.size(); ++f) {
    std::complex<double> acc = 0;
    for (int64_t j = 0; j < m; ++j) {
      // (j * f) mod n keeps the angle small and exact.
      const int64_t r = static_cast<int64_t>((static_cast<__int128>(j) * static_cast<int64_t>(f)) % n);
      const double a = sign * 2 * std::numbers::pi * static_cast<double>(r) / static_cast<double>(n);
      acc += in[static_cast<size_t>(j)] * std::complex<double>(std::cos(a), std::sin(a));
    }
    out[f] = inverse ? acc / static_cast<double>(n) : acc;
  }
}

// Input i as one integer (a scalar or 1-element tensor).
inline int64_t int_scalar(Kernel& k, size_t i) {
  const std::vector<int64_t> v = k.ints(i);
  if (v.size() != 1) fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " must hold one value");
  return v[0];
}

inline DType output_datatype(Kernel& k) {
  const int64_t code = k.node.attr_int("output_datatype", 1);
  const auto dt = onnx_dtype_if(static_cast<int>(code));
  if (!dt) fail(Error::Code::kUnsupported, "output_datatype " + std::to_string(code));
  return *dt;
}

inline void store_doubles(Kernel& k, size_t i, DType dt, const std::vector<int64_t>& shape,
                          const std::vector<double>& v) {
  Tensor& t = k.out(i, dt, shape);
  dispatch(NumericTypes{}, dt, k.node, [&]<class T>() {
    T* p = mut<T>(t);
    for (size_t j = 0; j < v.size(); ++j) p[j] = store<T>(v[j]);
  });
}

// Generalized cosine window (Hann, Hamming, Blackman, opset 17): a0 - a1 cos(2 pi n / N) +
// a2 cos(4 pi n / N), N = size (periodic=1, the default) or size - 1 (periodic=0).
inline void cosine_window(Kernel& k, double a0, double a1, double a2) {
  const int64_t size = int_scalar(k, 0);
  if (size < 0) fail(Error::Code::kInvalidArgument, "window size " + std::to_string(size) + " is negative");
  const bool periodic = k.node.attr_int("periodic", 1) != 0;
  const double den = static_cast<double>(periodic ? size : size - 1);
  const DType dt = output_datatype(k);
  numel({size});
  std::vector<double> v(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    const double a = 2 * std::numbers::pi * static_cast<double>(i) / den;
    v[static_cast<size_t>(i)] = den == 0 ? a0 - a1 + a2 : a0 - a1 * std::cos(a) + a2 * std::cos(2 * a);
  }
  store_doubles(k, 0, dt, {size}, v);
}

}  // namespace torchless::engine
