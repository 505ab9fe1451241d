// TEMPORARY: stands in for the torch writer's save() until its branch merges (the lead deletes
// this file then). save_state_dict(kTorch) and .bin shards report kUnsupported meanwhile.
#include "torchless/save.h"

namespace torchless {

Status save(const Value&, const std::string& path, const SaveOptions&) {
  return Error(Error::Code::kUnsupported, "torch writer not merged yet").path(path);
}

}  // namespace torchless
