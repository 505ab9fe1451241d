// Internal to src/pickle: the state the opcode loop (unpickler.cc) shares with the global
// handlers (globals.cc).
//
// The Machine owns what makes the VM's values trustworthy: the identity table of nodes only the
// VM can create (resolved known globals, storages from persistent_load, numpy dtypes/arrays,
// frozensets), the registry of every mutable container it built (so cycles can always be broken
// and nothing leaks), and the warnings of the load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pickle/unpickler.h"

namespace torchless::pickle {

// What a known (module, name) global does. The table in globals.cc maps exact pairs to these.
enum class Handler : uint8_t {
  // builtins / collections
  kOrderedDict, kDict, kSet, kFrozenSet, kBytes, kBytearray, kComplex, kSlice, kRange, kObject,
  kCodecsEncode, kReconstructor,
  // torch
  kRebuildTensor, kRebuildTensorV2, kRebuildTensorV3, kRebuildParameter,
  kRebuildParameterWithState, kRebuildFromTypeV2, kRebuildDeviceFromCpu, kRebuildMeta,
  kRebuildQTensor, kRebuildOtherKind, kStorageClass, kDType, kTensorClass, kSize, kDevice,
  kGetLayout,
  // torch.jit._pickle
  kRestoreTypeTag, kBuildIntList, kBuildDoubleList, kBuildBoolList, kBuildTensorList,
  kBuildTensorFromId,
  // numpy
  kNumpyScalar, kNumpyReconstruct, kNumpyDtype, kNumpyNdarray,
};

// The handler of an exact (module, name) pair (Python 2 spellings mapped), or nullopt.
std::optional<Handler> find_global(std::string_view module, std::string_view name);

class Machine {
 public:
  explicit Machine(const PickleOptions& options) : opt(options) {}
  // Breaks every reference among the containers this machine built (error paths, cycles).
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const PickleOptions& opt;
  bool opaque() const { return opt.opaque || opt.permissive; }

  // Nodes the VM gave a typed meaning. Keyed by node identity; the Value is kept alive so the
  // address is never reused while the machine lives.
  enum class Tag : uint8_t { kKnown, kStorage, kFrozenSet, kNumpyDtype, kNumpyArray };
  struct Special {
    Tag tag;
    uint32_t aux;  // kKnown: Handler; kStorage: index into storages_
  };
  void mark(const Value& v, Tag tag, uint32_t aux = 0);
  const Special* special(const Value& v) const {
    if (specials_.empty()) return nullptr;
    auto it = specials_.find(v.node());
    return it == specials_.end() ? nullptr : &it->second;
  }
  // The storage behind a value made by BINPERSID, or nullptr.
  const StorageRef* storage_of(const Value& v) const;
  Value make_storage(StorageRef ref);

  // Every list, dict, set and object the VM creates goes through here.
  Value track(Value v) {
    registry_.push_back(v);
    return v;
  }
  // Empties every tracked container whose node is not a key of `keep` (the nodes reachable
  // from the result), then forgets them all: unreachable cycles cannot leak.
  void release(const std::unordered_map<const void*, uint32_t>& keep);

  // Applies a known global: REDUCE (newobj = false) or NEWOBJ of it. `g` is the global value.
  Value call(Handler h, const Value& g, const Value& args, bool newobj);
  // BUILD on a node with a VM-typed meaning (numpy dtype / array). Returns the value that
  // replaces the target (the target itself when unchanged).
  Value build_special(const Value& target, const Special& s, const Value& state);

  void warn(std::string w) {
    if (warned_.insert(w).second) warnings.push_back(std::move(w));
  }
  std::vector<std::string> warnings;

 private:
  Value rebuild_tensor(Handler h, const std::vector<Value>& a, const char* fname);
  Value rebuild_from_type(const std::vector<Value>& a);
  Tensor make_tensor(const Value& storage, const Value& offset, const Value& size,
                     const Value& stride, std::optional<DType> dtype);
  void check_hooks(const Value& requires_grad, const Value& hooks, const char* fname);
  Value numpy_scalar(const std::vector<Value>& a);

  std::unordered_map<const void*, Special> specials_;
  std::vector<Value> special_values_;
  std::vector<StorageRef> storages_;
  std::vector<Value> registry_;
  std::unordered_set<std::string> warned_;
};

// Dict keys and set items: None, bool, int, float, str, bytes, globals and tuples of those.
bool is_key(const Value& v);
// Strict UTF-8 (no surrogates, no overlong forms, <= U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace torchless::pickle
