// Shared body of the single-reader fuzz targets: any bytes must give either tensors that can be
// read end to end or a typed Error; kInternal means a bug and aborts.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/check.h"
#include "core/file.h"
#include "formats/readers.h"

namespace torchless {

template <class Read>
int fuzz_reader(const uint8_t* data, size_t size, const char* name, Read read) {
  auto file = MappedFile::from_bytes(name, std::string(reinterpret_cast<const char*>(data), size));
  auto r = guard("fuzz", "", [&] { return read(file, LoadOptions{}); });
  if (!r.ok()) {
    if (r.error().code() == Error::Code::kInternal) abort();
    (void)r.error().to_string();
    return 0;
  }
  for (const auto& [n, t] : r->file.tensors) (void)sha256_hex(t);
  if (r->file.root.is_dict())
    for (const auto& [k, v] : r->file.root.as_dict().items) (void)sha256_hex(v.as_tensor());
  return 0;
}

}  // namespace torchless
