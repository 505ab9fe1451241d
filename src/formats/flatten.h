// Flattening an object tree into named tensors and plain values (DESIGN.md, inspect --json):
// dict keys as they are, list/tuple items by index, joined with '.'; a torch module object
// (whole-model pickle) contributes the names model.state_dict() would give. Walks are
// iterative-safe (depth-capped) and charge every visit to pickle.max_visit_nodes.
#pragma once

#include <string>

#include "torchless/load.h"

namespace torchless::formats {

// What every walk over an object tree charges: each visit to pickle.max_visit_nodes (PKL-15)
// and its depth to pickle.max_depth (G-4).
struct WalkBudget {
  const Limits& limits;
  uint64_t visits = 0;
  void visit(size_t depth);
};

// Appends to file.tensors / file.values / file.warnings from file.root. `input_bytes` (the
// file's size) sets the default output budget (Limits::flatten_max_bytes).
void flatten(LoadedFile& file, const Limits& limits, uint64_t input_bytes);

// True when `v` is a pickled torch.nn.Module (its state holds _parameters, _buffers, _modules).
bool is_module(const Value& v);
// Appends model.state_dict() entries of a module object, names prefixed with `prefix`.
void module_state_dict(const Value& module, const std::string& prefix, StateDict& out, const Limits& limits);

}  // namespace torchless::formats
