// tl_checkpoint: a training loop's checkpointing, for the interop suite (run_checkpoint.py).
//   tl_checkpoint run DIR FIRST LAST [--keep N] [--kib K] [--async]
// Saves steps FIRST..LAST through a CheckpointManager on DIR, each a tutorial-style checkpoint
// whose content identifies its step: {"epoch": step, "loss": 1/(step+1), "model_state_dict":
// {"fc.weight": float32[K*256] = step + i (mod 1000), "fc.bias": int64[3] = step*(1,2,3)},
// "optimizer_state_dict": {"state": {0: {"step": float32 0-dim = step}}, "param_groups":
// [{"lr": 0.1, "params": [0]}]}}, metrics {"loss": 1/(step+1)}. Prints "saved STEP" after each
// save returns; exits 1 with the error on stderr.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "torchless/checkpoint.h"

using namespace torchless;

namespace {

template <class T>
Tensor tensor(DType d, std::vector<int64_t> shape, int64_t n, T (*value)(int64_t)) {
  Storage s = *Storage::allocate(static_cast<size_t>(n) * sizeof(T));
  T* p = reinterpret_cast<T*>(s.mutable_data());
  for (int64_t i = 0; i < n; ++i) p[i] = value(i);
  return *Tensor::contiguous_over(s, d, std::move(shape));
}

int64_t g_step = 0;

Value checkpoint(int64_t step, int64_t kib) {
  g_step = step;
  const int64_t n = kib * 256;
  Value sd = Value::dict(true);
  sd.as_dict().add("fc.weight", Value::tensor(tensor<float>(DType::kFloat32, {n}, n, [](int64_t i) { return static_cast<float>((g_step + i) % 1000); })));
  sd.as_dict().add("fc.bias", Value::tensor(tensor<int64_t>(DType::kInt64, {3}, 3, [](int64_t i) { return g_step * (i + 1); })));
  Value st = Value::dict();
  st.as_dict().add("step", Value::tensor(tensor<float>(DType::kFloat32, {}, 1, [](int64_t) { return static_cast<float>(g_step); })));
  Value state = Value::dict();
  state.as_dict().items.emplace_back(Value::integer(0), st);
  Value group = Value::dict();
  group.as_dict().add("lr", Value::floating(0.1));
  group.as_dict().add("params", Value::list({Value::integer(0)}));
  Value opt = Value::dict();
  opt.as_dict().add("state", state);
  opt.as_dict().add("param_groups", Value::list({group}));
  Value root = Value::dict();
  root.as_dict().add("epoch", Value::integer(step));
  root.as_dict().add("loss", Value::floating(1.0 / static_cast<double>(step + 1)));
  root.as_dict().add("model_state_dict", sd);
  root.as_dict().add("optimizer_state_dict", opt);
  return root;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[1], "run") != 0) {
    std::cerr << "usage: tl_checkpoint run DIR FIRST LAST [--keep N] [--kib K] [--async]\n";
    return 2;
  }
  CheckpointOptions o;
  int64_t kib = 4;
  for (int i = 5; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keep" && i + 1 < argc) o.retention.keep_last = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--kib" && i + 1 < argc) kib = std::strtoll(argv[++i], nullptr, 10);
    else if (a == "--async") o.async = true;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  auto m = CheckpointManager::open(argv[2], o);
  if (!m) {
    std::cerr << m.error().to_string() << "\n";
    return 1;
  }
  const int64_t first = std::strtoll(argv[3], nullptr, 10), last = std::strtoll(argv[4], nullptr, 10);
  for (int64_t s = first; s <= last; ++s) {
    auto st = (*m)->save(checkpoint(s, kib), {.step = s, .epoch = s, .metrics = {{"loss", 1.0 / static_cast<double>(s + 1)}}});
    if (!st) {
      std::cerr << st.error().to_string() << "\n";
      return 1;
    }
    std::cout << "saved " << s << std::endl;
  }
  if (auto st = (*m)->wait(); !st) {
    std::cerr << st.error().to_string() << "\n";
    return 1;
  }
  return 0;
}
