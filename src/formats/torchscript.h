// State-dict names of a TorchScript archive without interpreting its code (formats.md 5):
// the module objects of data.pkl are walked; which tensor attributes are parameters or
// buffers comes from the two generated lines `__parameters__ = [...]` and
// `__buffers__ = [...]` of each class in code/ (string-list literals; nothing else in code/
// is parsed, nothing is executed).
#pragma once

#include <string>

#include "torchless/load.h"
#include "zip/zip.h"

namespace torchless::formats {

// Fills out.tensors from out.root (the unpickled data.pkl) in model.state_dict() order.
// `constants` is the unpickled constants.pkl (used only to explain an empty state dict).
void torchscript_state_dict(const ZipReader& zip, const std::string& prefix, LoadedFile& out,
                            const Value& constants, const Limits& limits);

}  // namespace torchless::formats
