// torchless/value.h — the object tree a reader builds from a file.
//
// A Value is what a pickle (or a safetensors / npy / ONNX header) described, as plain data:
// None, bool, int (int64; larger integers are kept exactly as BigInt decimal text), float,
// string, bytes, list, tuple, dict (insertion-ordered, any key type; `OrderedDict` is a dict
// with ordered() set and optional BUILD attributes such as `_metadata`), set, Tensor, and two
// inert kinds: Global (a name the file referenced, never resolved) and Object (an instance or
// a call the file described: class/callable name + arguments + state). Nothing in a Value was
// ever executed.
//
// Containers and tensors are shared handles: copying a Value copies a pointer, so memo references in a
// pickle cost O(1) and aliasing (the same dict reachable twice) is preserved. Destruction is
// iterative, so arbitrarily deep trees never overflow the stack.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "torchless/tensor.h"

namespace torchless {

class Value;

struct ValueList {  // list, tuple and set items
  std::vector<Value> items;
  ~ValueList();
};
struct ValueDict {
  std::vector<std::pair<Value, Value>> items;  // insertion order
  bool ordered = false;                        // collections.OrderedDict
  std::vector<std::pair<std::string, Value>> attributes;  // BUILD state, e.g. "_metadata"
  ~ValueDict();
  // First value whose key is the string `key`, or nullptr.
  const Value* find(std::string_view key) const;
  // Appends the string key `key` -> `value` (no check for an existing key), for building
  // checkpoints: d.add("epoch", Value::integer(3)).add("loss", Value::floating(0.1)).
  ValueDict& add(std::string key, Value value);
};
struct ValueObject {
  std::string module, name;  // the class or callable, e.g. "__main__", "Net"
  bool is_call = false;      // false: instance (NEWOBJ/BUILD); true: a REDUCE of a callable
  std::vector<Value> args;   // constructor / call arguments
  std::vector<Value> state;  // BUILD states, in order (usually one dict)
  std::vector<Value> appended;                      // APPEND(S) applied to the object
  std::vector<std::pair<Value, Value>> set_items;   // SETITEM(S) applied to the object
  ~ValueObject();
  std::string qualified_name() const { return module + "." + name; }
  // The dict state of the object (the last BUILD state that is a dict, or the dict part of a
  // (dict, slots) tuple), or nullptr.
  const ValueDict* state_dict() const;
};
struct ValueGlobal {
  std::string module, name;
};
struct BigInt {
  std::string decimal;  // e.g. "-123456789012345678901234567890"
};
struct Bytes {
  std::string data;
};

class Value {
 public:
  enum class Kind { kNone, kBool, kInt, kBigInt, kFloat, kString, kBytes, kList, kTuple, kSet,
                    kDict, kTensor, kObject, kGlobal };

  Value() = default;  // None
  static Value none() { return Value(); }
  static Value boolean(bool b) { return Value(Rep(b)); }
  static Value integer(int64_t i) { return Value(Rep(i)); }
  static Value big_integer(std::string decimal) { return Value(Rep(BigInt{std::move(decimal)})); }
  static Value floating(double d) { return Value(Rep(d)); }
  static Value string(std::string s) { return Value(Rep(std::move(s))); }
  static Value bytes(std::string b) { return Value(Rep(Bytes{std::move(b)})); }
  static Value tensor(Tensor t) { return Value(Rep(std::make_shared<const Tensor>(std::move(t)))); }
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items = {});
  static Value set(std::vector<Value> items = {});
  static Value dict(bool ordered = false);
  static Value object(std::string module, std::string name, bool is_call = false);
  static Value global(std::string module, std::string name);

  Kind kind() const { return static_cast<Kind>(rep_.index()); }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_tensor() const { return kind() == Kind::kTensor; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_tuple() const { return kind() == Kind::kTuple; }
  bool is_object() const { return kind() == Kind::kObject; }
  // Container kinds share their node when copied.
  bool is_container() const;

  // Accessors: precondition is the matching kind (checked with an assert in debug builds).
  bool as_bool() const { return std::get<bool>(rep_); }
  int64_t as_int() const { return std::get<int64_t>(rep_); }
  double as_float() const { return std::get<double>(rep_); }
  const std::string& as_string() const { return std::get<std::string>(rep_); }
  const std::string& as_bytes() const { return std::get<Bytes>(rep_).data; }
  const std::string& as_big_int() const { return std::get<BigInt>(rep_).decimal; }
  const Tensor& as_tensor() const { return *std::get<std::shared_ptr<const Tensor>>(rep_); }
  // list / tuple / set items
  std::vector<Value>& items() const;
  ValueDict& as_dict() const { return *std::get<std::shared_ptr<ValueDict>>(rep_); }
  ValueObject& as_object() const { return *std::get<std::shared_ptr<ValueObject>>(rep_); }
  const ValueGlobal& as_global() const { return *std::get<std::shared_ptr<ValueGlobal>>(rep_); }

  // Identity of a container node (for visited sets and aliasing checks); null for scalars.
  const void* node() const;

  // "None", "int", "dict", "tensor", "object" ... for messages.
  const char* kind_name() const;

 private:
  using Rep = std::variant<std::monostate, bool, int64_t, BigInt, double, std::string, Bytes,
                           std::shared_ptr<struct ListBox>, std::shared_ptr<struct TupleBox>,
                           std::shared_ptr<struct SetBox>, std::shared_ptr<ValueDict>,
                           std::shared_ptr<const Tensor>,
                           std::shared_ptr<ValueObject>, std::shared_ptr<ValueGlobal>>;
  explicit Value(Rep r) : rep_(std::move(r)) {}
  Rep rep_;
};

struct ListBox : ValueList {};
struct TupleBox : ValueList {};
struct SetBox : ValueList {};

}  // namespace torchless
