// The engine's own graph (specs/onnx-runtime.md 1.3): nodes in topological order, values by
// id, typed attributes, constants as Tensors that view the loaded model where possible.
// Built once by import.cc from a checked ModelProto; immutable afterwards.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "torchless/tensor.h"

namespace torchless::engine {

struct Graph;
struct OpDef;

struct Attr {
  // kTypeProto (Optional's `type`): only its presence is kept.
  enum class Type { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kTensors, kGraphs, kTypeProto };
  std::string name;
  Type type = Type::kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  Tensor t;                      // kTensor
  std::shared_ptr<Graph> g;      // kGraph
};

struct Node {
  std::string name;              // the ONNX node name, or "op_type#index" when unnamed
  std::string op_type;
  const OpDef* op = nullptr;
  bool (*fast)(class Kernel&) = nullptr;  // the optimised kernel, if the op has one
  int version = 0;               // since_version of the schema this node uses
  std::vector<int> inputs;       // value ids; -1 = absent optional input
  std::vector<int> outputs;      // value ids; -1 = absent optional output
  std::vector<Attr> attrs;

  const Attr* attr(std::string_view name) const;
  int64_t attr_int(std::string_view name, int64_t def) const;
  float attr_float(std::string_view name, float def) const;
  std::string attr_string(std::string_view name, std::string def) const;
  std::vector<int64_t> attr_ints(std::string_view name, std::vector<int64_t> def = {}) const;
  std::vector<float> attr_floats(std::string_view name, std::vector<float> def = {}) const;
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] >= 0; }
  // "node 'Conv_3' (Conv-11)" for messages.
  std::string where() const;
};

// A value flowing between nodes. dtype/shape are what the model (and ONNX shape inference)
// declare; they are advisory: kernels compute real shapes at run time.
struct ValueInfo {
  std::string name;
  int producer = -1;             // node index, -1 for graph inputs, constants, captures
  int last_use = -1;             // index of the last node that reads it (-1: none)
  bool is_output = false;        // a graph output: never freed early
  bool has_constant = false;
  Tensor constant;               // initializer / Constant / folded value
  int capture = -1;              // an outer-scope value: its id in the parent graph
};

struct Graph {
  std::vector<ValueInfo> values;
  std::vector<Node> nodes;       // topological order
  std::vector<int> inputs;       // graph inputs that are not initializers
  std::vector<int> outputs;
  std::vector<int> captures;     // ids of values taken from the enclosing graph
  const Graph* parent = nullptr;
};

}  // namespace torchless::engine
