// Prints the model weights of any checkpoint torchless reads: name, dtype, shape, and the mean
// of each floating-point tensor. Usage: state_dict_summary FILE
#include <torchless/load.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  torchless::LoadOptions options;
  options.strip_prefix = true;  // drop DataParallel's "module." if every key has it
  auto sd = torchless::load_state_dict(argv[1], options);
  if (!sd) {
    std::fprintf(stderr, "error: %s\n", sd.error().to_string().c_str());
    return 1;
  }
  for (const auto& [name, tensor] : *sd) {
    std::printf("%-40s %-9s [", name.c_str(), std::string(torchless::dtype_name(tensor.dtype())).c_str());
    for (size_t i = 0; i < tensor.ndim(); ++i) std::printf("%s%lld", i ? ", " : "", (long long)tensor.shape()[i]);
    std::printf("]");
    if (tensor.dtype() == torchless::DType::kFloat32 && tensor.numel() > 0) {
      auto c = tensor.contiguous();  // a view when already contiguous, else a copy
      if (!c) return 1;
      double sum = 0;
      for (int64_t i = 0; i < c->numel(); ++i) {
        float v;
        std::memcpy(&v, c->data() + 4 * i, 4);
        sum += v;
      }
      std::printf("  mean %.6f", sum / static_cast<double>(c->numel()));
    }
    std::printf("\n");
  }
  return 0;
}
