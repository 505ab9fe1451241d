// Which reader a file goes to, decided by its bytes (FMT-01). Throws kUnsupported, naming the
// wrapper for compressed containers (FMT-05) or showing the first bytes in hex.
#pragma once

#include "core/file.h"
#include "torchless/load.h"

namespace torchless::formats {

// kTorchZip here covers TorchScript too (read_torch_zip tells them apart).
Format detect(const MappedFile& file);

}  // namespace torchless::formats
