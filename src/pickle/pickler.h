// The pickler behind the torch writer: a Value tree as a protocol-2 data.pkl in the "compat"
// profile of formats.md 7, laid out as torch 1.13's torch.save writes it.
//
// Opcodes: PROTO, STOP, MARK, EMPTY_DICT/LIST/TUPLE, TUPLE/1/2/3, SETITEM(S), APPEND(S),
// NONE, NEWTRUE/FALSE, BININT/1/2, LONG1, BINUNICODE, BINPUT/LONG_BINPUT, BINGET/LONG_BINGET,
// GLOBAL, REDUCE, BUILD (only OrderedDict attributes such as _metadata), BINPERSID, BINFLOAT.
// Globals: collections OrderedDict, torch._utils _rebuild_tensor_v2, torch <X>Storage for the
// 12 classic dtypes, _codecs encode (bytes, as Python 3 pickles them at protocol 2); for the
// dtypes torch 2.x serializes as untyped bytes (uint16/32/64, float8 variants, complex32)
// torch._utils _rebuild_tensor_v3, torch.storage UntypedStorage (the class's __module__, which
// pickle records) and the dtype (torch uint16, ...).
//
// Tensors become _rebuild_tensor_v2(BINPERSID ('storage', torch <X>Storage, key, 'cpu',
// numel), offset, size, stride, False, OrderedDict()), or for those new dtypes, as torch 2.x
// writes them, _rebuild_tensor_v3(BINPERSID ('storage', torch.storage UntypedStorage, key, 'cpu',
// nbytes), offset, size, stride, False, OrderedDict(), torch <dtype>). Tensors over the same
// Storage (Storage::same_as) share one key and keep their offsets and strides; keys are
// "0".."N-1" in order of first reference. Strings, globals, containers and tensors are
// memoized like Python's pickler does (BINPUT after creation, BINGET on repeats), so aliasing
// survives.
//
// Refused (Error kUnsupported naming the path in the tree, e.g. "optimizer.state.0.step"):
// sets, inert objects and globals, unhashable dict keys, quantized tensors, one storage viewed
// as two dtypes, integers longer than LONG1's 255 bytes, nesting deeper than 512 (the reader's
// default).
//
// Warnings (TorchPickle::warnings) name the first place of each kind of content that torch
// 1.13 cannot load with weights_only=True (Python floats, bytes) or cannot load at all (the
// _rebuild_tensor_v3 dtypes).
#pragma once

#include <string>
#include <vector>

#include "torchless/tensor.h"
#include "torchless/value.h"

namespace torchless {

struct TorchPickle {
  std::string data;               // the pickle bytes (data.pkl)
  std::vector<Storage> storages;  // storages[i] is written as data/<i>
  std::vector<std::string> warnings;
};

// Pickles `root` (throws Error).
TorchPickle pickle_for_torch(const Value& root);

}  // namespace torchless
