// What the torch formats (zip archives, TorchScript, legacy streams) share: parsing and
// checking storage persistent ids, and remembering each storage key's first reference so
// that later references must agree (hostile-inputs PKL-08, TEN-01, TEN-09, TEN-10).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pickle/unpickler.h"
#include "torchless/value.h"

namespace torchless::formats {

// ('storage', <storage class>, key, location, numel[, view_metadata]) after checks.
struct StoragePid {
  std::string key;
  DType dtype = DType::kUInt8;
  uint64_t numel = 0;    // elements of dtype (bytes for UntypedStorage)
  uint64_t nbytes = 0;   // numel * dtype size, overflow-checked
  Value view_metadata;   // legacy only: None or (view_key, offset, size)
};

// Validates a persistent id of `arity` items (5 in zip archives, 6 in legacy streams).
// A key must be decimal digits (PKL-08); `/`, `\`, `..` or NUL in it is kForbidden.
StoragePid parse_storage_pid(const Value& pid, size_t arity);

// Adds one warning naming the classes and functions the pickle referred to that were kept as
// inert records. TorchScript's own `__torch__.*` module classes are expected and not listed.
void warn_inert_globals(const PickleResult& r, LoadedFile& out);

// First reference of each key fixes (dtype, numel); later ones must match (TEN-10).
class StorageKeys {
 public:
  // Returns true the first time `pid.key` is seen.
  bool reference(const StoragePid& pid);
  const std::map<std::string, StoragePid>& all() const { return keys_; }

 private:
  std::map<std::string, StoragePid> keys_;
};


}  // namespace torchless::formats
