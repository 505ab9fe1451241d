// Runs a Graph with the reference kernels: one environment of values per graph execution,
// nodes in topological order, values released after their last reader. Subgraphs (If, Loop,
// Scan bodies) run through the same executor with the enclosing environment for captures.
#pragma once

#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

class Executor {
 public:
  explicit Executor(Budget& budget) : budget_(budget) {}
  // Runs g; `outer` is the enclosing graph's environment (null for the main graph).
  std::vector<Val> run(const Graph& g, std::vector<Val> inputs, const std::vector<Val>* outer) const;

 private:
  Budget& budget_;
};

}  // namespace torchless::engine
