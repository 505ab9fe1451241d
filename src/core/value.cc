#include "torchless/value.h"

#include <vector>

namespace torchless {
namespace {

// Iterative teardown: a node being destroyed hands its children to a per-thread graveyard
// instead of destroying them recursively; the outermost destructor drains the graveyard.
thread_local std::vector<Value>* graveyard = nullptr;

template <class Fn>
void bury(Fn&& move_children_out) {
  if (graveyard) {
    move_children_out(*graveyard);
    return;
  }
  std::vector<Value> pile;
  graveyard = &pile;
  move_children_out(pile);
  while (!pile.empty()) {
    Value v = std::move(pile.back());
    pile.pop_back();
    // v's destructor runs here; any node it frees pushes its children onto `pile`.
  }
  graveyard = nullptr;
}

void take(std::vector<Value>& from, std::vector<Value>& to) {
  for (Value& v : from)
    if (v.is_container()) to.push_back(std::move(v));
  from.clear();
}
void take(std::vector<std::pair<Value, Value>>& from, std::vector<Value>& to) {
  for (auto& [k, v] : from) {
    if (k.is_container()) to.push_back(std::move(k));
    if (v.is_container()) to.push_back(std::move(v));
  }
  from.clear();
}

}  // namespace

ValueList::~ValueList() {
  bury([&](std::vector<Value>& g) { take(items, g); });
}
ValueDict::~ValueDict() {
  bury([&](std::vector<Value>& g) {
    take(items, g);
    for (auto& [k, v] : attributes)
      if (v.is_container()) g.push_back(std::move(v));
    attributes.clear();
  });
}
ValueObject::~ValueObject() {
  bury([&](std::vector<Value>& g) {
    take(args, g);
    take(state, g);
    take(appended, g);
    take(set_items, g);
  });
}

const Value* ValueDict::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

ValueDict& ValueDict::add(std::string key, Value value) {
  items.emplace_back(Value::string(std::move(key)), std::move(value));
  return *this;
}

const ValueDict* ValueObject::state_dict() const {
  for (size_t i = state.size(); i-- > 0;) {
    const Value& s = state[i];
    if (s.is_dict()) return &s.as_dict();
    if (s.is_tuple() && !s.items().empty() && s.items()[0].is_dict()) return &s.items()[0].as_dict();
  }
  return nullptr;
}

Value Value::list(std::vector<Value> items) {
  auto n = std::make_shared<ListBox>();
  n->items = std::move(items);
  return Value(Rep(std::move(n)));
}
Value Value::tuple(std::vector<Value> items) {
  auto n = std::make_shared<TupleBox>();
  n->items = std::move(items);
  return Value(Rep(std::move(n)));
}
Value Value::set(std::vector<Value> items) {
  auto n = std::make_shared<SetBox>();
  n->items = std::move(items);
  return Value(Rep(std::move(n)));
}
Value Value::dict(bool ordered) {
  auto n = std::make_shared<ValueDict>();
  n->ordered = ordered;
  return Value(Rep(std::move(n)));
}
Value Value::object(std::string module, std::string name, bool is_call) {
  auto n = std::make_shared<ValueObject>();
  n->module = std::move(module);
  n->name = std::move(name);
  n->is_call = is_call;
  return Value(Rep(std::move(n)));
}
Value Value::global(std::string module, std::string name) {
  return Value(Rep(std::make_shared<ValueGlobal>(ValueGlobal{std::move(module), std::move(name)})));
}

bool Value::is_container() const {
  switch (kind()) {
    case Kind::kList: case Kind::kTuple: case Kind::kSet: case Kind::kDict: case Kind::kObject:
      return true;
    default:
      return false;
  }
}

std::vector<Value>& Value::items() const {
  switch (kind()) {
    case Kind::kList: return std::get<std::shared_ptr<ListBox>>(rep_)->items;
    case Kind::kTuple: return std::get<std::shared_ptr<TupleBox>>(rep_)->items;
    default: return std::get<std::shared_ptr<SetBox>>(rep_)->items;
  }
}

const void* Value::node() const {
  switch (kind()) {
    case Kind::kList: return std::get<std::shared_ptr<ListBox>>(rep_).get();
    case Kind::kTuple: return std::get<std::shared_ptr<TupleBox>>(rep_).get();
    case Kind::kSet: return std::get<std::shared_ptr<SetBox>>(rep_).get();
    case Kind::kDict: return std::get<std::shared_ptr<ValueDict>>(rep_).get();
    case Kind::kObject: return std::get<std::shared_ptr<ValueObject>>(rep_).get();
    case Kind::kGlobal: return std::get<std::shared_ptr<ValueGlobal>>(rep_).get();
    default: return nullptr;
  }
}

const char* Value::kind_name() const {
  static const char* names[] = {"None", "bool", "int", "int", "float", "str", "bytes", "list",
                                "tuple", "set", "dict", "tensor", "object", "global"};
  return names[rep_.index()];
}

}  // namespace torchless
