// The restricted unpickler: a pickle VM that only builds data (torchless/value.h).
//
// It implements every opcode of protocols 2-5 (protocol 0/1 text opcodes are kUnsupported,
// out-of-band buffers too) and resolves GLOBALs through an exact (module, name) table
// (pickle/globals.cc) of torch / collections / numpy helpers whose handlers check their
// arguments (kCorrupt otherwise) and return data: tensor rebuild functions, storages, dtypes,
// torch.Size / device, OrderedDict, _codecs.encode, set, numpy scalars and arrays,
// copyreg._reconstructor, torch.jit._pickle helpers. Nothing is ever called. Meta, quantized,
// sparse, nested and wrapper-subclass tensors are kUnsupported naming the rebuild function.
//
// Unknown globals: strict mode (opaque = false) refuses them at the GLOBAL (kForbidden). In
// opaque mode they become inert Global values (listed in inert_globals); NEWOBJ / NEWOBJ_EX of one
// is an inert ValueObject (is_call = false) that records BUILD states, APPENDs and SETITEMs —
// how modules and custom objects are pickled. REDUCE of one (os.system, builtins.eval, ...) is
// kForbidden naming module.name at the REDUCE's offset, unless `permissive` is set: then it is
// an inert ValueObject with is_call = true and a warning.
//
// Checks: pickle.max_bytes, max_memo (memo is a map: memory follows entries), max_long_bytes
// (longer LONG1/LONG4 are kLimitExceeded; beyond int64 they become BigInt text), max_depth
// (open MARKs while parsing; container nesting over the finished graph, so nesting built
// through the memo counts too), tensor.* on every rebuilt tensor, lengths against the bytes
// present before any allocation, frames, strict UTF-8, hashable dict keys and no duplicate
// keys. At STOP the graph reachable from the result is walked iteratively: a cycle is kCorrupt
// in every mode; containers not reachable are emptied so no reference cycle can leak. Errors
// name the opcode and carry the absolute offset (base_offset + position) and `member`.
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
  std::vector<std::string> warnings;       // inert calls recorded, attributes dropped, ...
  std::vector<std::string> inert_globals;  // unknown globals kept as inert records, first use order
};

// Unpickles one pickle from the start of `bytes`. With allow_trailing = false any byte after
// STOP is kCorrupt (PKL-23); the legacy reader reads consecutive pickles with it set to true.
PickleResult unpickle(std::span<const std::byte> bytes, const PickleOptions& options,
                      bool allow_trailing = false);

// The dtype of a storage class global such as ("torch", "FloatStorage"); UntypedStorage is
// uint8. nullopt for anything else.
std::optional<DType> storage_class_dtype(std::string_view module, std::string_view name);

}  // namespace torchless
