// libFuzzer target: the full torch loader (zip or legacy container, restricted unpickler,
// tensor checks, TorchScript names, flattening) on arbitrary bytes. Any Error is fine; a
// crash, sanitizer report, leak or unbounded allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/check.h"
#include "formats/detect.h"
#include "formats/flatten.h"
#include "formats/readers.h"

using namespace torchless;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = MappedFile::from_bytes("fuzz.pt", std::string(reinterpret_cast<const char*>(data), size));
  LoadOptions o;
  o.verify_crc = size % 2 == 0;
  o.permissive = size % 3 == 0;
  auto r = guard("fuzz", "", [&] {
    const Format f = formats::detect(*file);
    formats::ReadResult rr;
    if (f == Format::kTorchZip) rr = formats::read_torch_zip(file, o);
    else if (f == Format::kTorchLegacy) rr = formats::read_torch_legacy(file, o);
    else return size_t{0};
    if (!rr.named) formats::flatten(rr.file, o.limits, size);
    size_t n = 0;
    for (const auto& [name, t] : rr.file.tensors) n += static_cast<size_t>(sha256_hex(t).size());
    return n;
  });
  (void)r;
  return 0;
}
