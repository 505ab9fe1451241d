// The restricted unpickler: a pickle VM that only builds data (torchless/value.h).
//
// It implements every opcode of protocols 2-5 (and refuses protocol 0/1 text opcodes with
// kUnsupported), resolves GLOBALs through an exact (module, name) table of torch / collections /
// numpy helpers whose handlers check their arguments and return data (tensor rebuild functions,
// storages, dtypes, torch.Size, OrderedDict, _codecs.encode, set, numpy scalars and arrays,
// copyreg._reconstructor, torch.jit._pickle helpers). Nothing is ever called.
//
// Unknown globals: a NEWOBJ / BUILD / REDUCE-to-instantiate of an unknown class in opaque mode
// becomes an inert ValueObject (how modules and custom objects are pickled). A REDUCE of any
// other callable (os.system, builtins.eval, ...) is kForbidden naming module.name and the
// opcode offset, unless `permissive` is set: then it becomes an inert ValueObject with
// is_call = true and a warning. strict mode refuses every unknown global (kForbidden).
//
// Limits: pickle.max_bytes, max_depth (containers and open MARKs), max_memo, max_long_bytes,
// tensor.* checks on every rebuilt tensor. Cycles are refused (kCorrupt). Errors carry the
// absolute offset (base_offset + position) and the opcode.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "torchless/load.h"
#include "torchless/value.h"

namespace torchless {

// Bytes of one storage with its element type, as resolved from a persistent id.
struct StorageRef {
  Storage storage;
  DType dtype = DType::kUInt8;
};

struct PickleOptions {
  Limits limits;
  bool opaque = true;       // unknown classes -> inert objects (false: kForbidden)
  bool permissive = false;  // forbidden calls -> inert call records (implies opaque)
  uint64_t base_offset = 0; // absolute file offset of the first pickle byte (for messages)
  std::string member;       // zip member / stream name for messages ("archive/data.pkl")
  // Resolves a BINPERSID payload. Return a StorageRef for storages (the VM turns it into a
  // storage the rebuild functions accept) or a Value (legacy ('module', cls, ...) ids return
  // the class). Unset: any BINPERSID is kCorrupt. `offset` is the absolute opcode offset.
  std::function<std::variant<StorageRef, Value>(const Value& pid, uint64_t offset)> persistent_load;
};

struct PickleResult {
  Value root;
  size_t consumed = 0;                // bytes up to and including STOP
  std::vector<std::string> warnings;  // unknown globals seen, inert calls recorded, ...
};

// Unpickles one pickle from the start of `bytes`. With allow_trailing = false any byte after
// STOP is kCorrupt (PKL-23); the legacy reader reads consecutive pickles with it set to true.
PickleResult unpickle(std::span<const std::byte> bytes, const PickleOptions& options,
                      bool allow_trailing = false);

// The dtype of a storage class global such as ("torch", "FloatStorage"); UntypedStorage is
// uint8. nullopt for anything else.
std::optional<DType> storage_class_dtype(std::string_view module, std::string_view name);

}  // namespace torchless
