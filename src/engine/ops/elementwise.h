// Shared shapes of elementwise kernels: unary (same dtype out), binary with numpy
// broadcasting (same dtype or bool out). The per-element function gets and returns calc_t
// values (float for float16/bfloat16).
#pragma once

#include "engine/kernel.h"

namespace torchless::engine {

template <class List, class F>
void unary(Kernel& k, F f) {
  const Tensor& x = k.in(0);
  dispatch(List{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out_uninit(0, x.dtype(), x.shape());
    const T* a = data<T>(x);
    T* b = mut<T>(y);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) b[i] = store<T>(f(load(a[i])));
  });
}

// out[i] = f(x[i]) as bool (IsNaN, IsInf).
template <class List, class F>
void predicate(Kernel& k, F f) {
  const Tensor& x = k.in(0);
  dispatch(List{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out_uninit(0, DType::kBool, x.shape());
    const T* a = data<T>(x);
    bool* b = mut<bool>(y);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) b[i] = f(load(a[i]));
  });
}

// out[i] = f(a, b) broadcast; Out = the input type, or bool for comparisons.
template <class List, bool kBoolOut = false, class F>
void binary(Kernel& k, const Tensor& a, const Tensor& b, F f) {
  if (a.dtype() != b.dtype())
    fail(Error::Code::kInvalidArgument, "inputs have different types " + std::string(dtype_name(a.dtype())) +
                                            " and " + std::string(dtype_name(b.dtype())));
  const std::vector<int64_t> shape = broadcast_shapes({a.shape(), b.shape()}, k.node);
  dispatch(List{}, a.dtype(), k.node, [&]<class T>() {
    using Out = std::conditional_t<kBoolOut, bool, T>;
    Tensor& y = k.out_uninit(0, dtype_of<Out>(), shape);
    const T* pa = data<T>(a);
    const T* pb = data<T>(b);
    Out* py = mut<Out>(y);
    if (a.shape() == b.shape()) {
      const int64_t n = a.numel();
      for (int64_t i = 0; i < n; ++i) py[i] = store<Out>(f(load(pa[i]), load(pb[i])));
      return;
    }
    for_each_broadcast<2>(shape, {broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape)},
                          [&](int64_t i, int64_t ia, int64_t ib) { py[i] = store<Out>(f(load(pa[ia]), load(pb[ib]))); });
  });
}

template <class List, bool kBoolOut = false, class F>
void binary(Kernel& k, F f) {
  binary<List, kBoolOut>(k, k.in(0), k.in(1), f);
}

}  // namespace torchless::engine
