// placeholder: replaced by the reader's implementation
#include "core/check.h"
#include "formats/readers.h"

namespace torchless::formats {

ReadResult read_torch_legacy(const FilePtr&, const LoadOptions&) {
  fail(Error::Code::kUnsupported, "reader not implemented yet");
}

}  // namespace torchless::formats
