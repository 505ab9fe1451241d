// Constant (opsets 1, 9, 11, 12, 13): import.cc folds every Constant node into a constant of
// its graph (value, value_float(s), value_int(s)), so this kernel never runs; the op table entry
// is what lets the importer accept the node's versions.
#include "engine/kernel.h"

namespace torchless::engine {

void constant_run(Kernel&) { fail(Error::Code::kInternal, "Constant nodes are folded at import"); }

}  // namespace torchless::engine
