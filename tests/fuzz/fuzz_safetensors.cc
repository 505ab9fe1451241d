// libFuzzer target for the safetensors reader (and the strict JSON parser of its header): any
// bytes must give either tensors that can be read end to end or a typed Error; kInternal means
// a bug and aborts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/check.h"
#include "core/file.h"
#include "formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace torchless;
  auto file = MappedFile::from_bytes("fuzz.safetensors", std::string(reinterpret_cast<const char*>(data), size));
  auto r = guard("fuzz", "", [&] { return formats::read_safetensors(file, LoadOptions{}); });
  if (!r.ok()) {
    if (r.error().code() == Error::Code::kInternal) abort();
    (void)r.error().to_string();
    return 0;
  }
  for (const auto& [name, t] : r->file.tensors) (void)sha256_hex(t);
  if (r->file.root.is_dict())
    for (const auto& [k, v] : r->file.root.as_dict().items) (void)sha256_hex(v.as_tensor());
  return 0;
}
