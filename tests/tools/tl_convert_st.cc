// tl_convert_st: a test driver for the writers (issue 4). Loads IN with load_state_dict and
// writes OUT:
//   tl_convert_st IN OUT.safetensors [--shard-size N] [--meta KEY=VALUE]...
//   tl_convert_st IN OUT.bin --shard-size N       (torch shards)
//   tl_convert_st IN OUTDIR --npy                 (OUTDIR/<name>.npy per tensor)
// Exit 0 on success, 1 with the error on stderr.
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "torchless/load.h"
#include "torchless/save.h"

int main(int argc, char** argv) {
  using namespace torchless;
  if (argc < 3) {
    std::cerr << "usage: tl_convert_st IN OUT [--npy] [--shard-size N] [--meta K=V]...\n";
    return 2;
  }
  const std::string in = argv[1], out = argv[2];
  bool npy = false;
  SaveOptions o;
  o.format = SaveFormat::kSafetensors;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--npy") npy = true;
    else if (a == "--shard-size" && i + 1 < argc) o.shard_size = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--meta" && i + 1 < argc) {
      const std::string kv = argv[++i];
      const size_t eq = kv.find('=');
      o.metadata.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    } else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  auto sd = load_state_dict(in);
  if (!sd) {
    std::cerr << sd.error().to_string() << "\n";
    return 1;
  }
  if (npy) {
    ::mkdir(out.c_str(), 0755);
    for (const auto& [name, t] : *sd)
      if (auto s = save_npy(t, out + "/" + name + ".npy"); !s) {
        std::cerr << s.error().to_string() << "\n";
        return 1;
      }
    return 0;
  }
  if (auto s = save_state_dict(*sd, out, o); !s) {
    std::cerr << s.error().to_string() << "\n";
    return 1;
  }
  return 0;
}
