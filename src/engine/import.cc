// ModelProto -> IR (specs/onnx-runtime.md 1.2-1.3, hostile-inputs ONNX-09..14).
//
// Per graph: initializers become constants (views into the proto's raw_data or the mapped
// external files), `Constant` nodes become constants too, nodes are sorted topologically by
// an iterative Kahn sort that also counts the outer-scope names their subgraphs read, every
// node is bound to the op table by the since_version of the ONNX schema its opset selects,
// attributes are typed and checked against the populated field, and names that a subgraph
// takes from an enclosing graph become captures.
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <map>
#include <queue>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/kernel.h"
#include "engine/model.h"
#include "engine/proto.h"

namespace torchless::engine {
namespace {

constexpr int64_t kMaxOpset = 17;       // ai.onnx opsets the engine implements
constexpr int64_t kMaxIrVersion = 8;    // ONNX 1.12
constexpr uint64_t kMaxNodes = 1 << 22; // onnx.max_nodes, over all graphs
constexpr uint64_t kMaxMetadataBytes = 16 << 20;  // onnx.max_metadata_bytes: doc strings + metadata_props

std::string domain_of(const std::string& d) { return d == "ai.onnx" ? std::string() : d; }

// Names a graph reads but does not define (what its nodes take from enclosing scopes).
void free_names(const onnx::GraphProto& g, std::set<std::string>& out) {
  std::set<std::string> defined;
  for (const auto& x : g.input()) defined.insert(x.name());
  for (const auto& x : g.initializer()) defined.insert(x.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) defined.insert(o);
  std::set<std::string> used;
  for (const auto& n : g.node()) {
    for (const auto& i : n.input())
      if (!i.empty()) used.insert(i);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) free_names(a.g(), used);
      for (const auto& sg : a.graphs()) free_names(sg, used);
    }
  }
  for (const auto& o : g.output()) used.insert(o.name());
  for (const auto& u : used)
    if (!defined.count(u)) out.insert(u);
}

// Attributes that ONNX 1.12's shape inference divides or multiplies by without checks (MaxPool
// strides = 0 and DepthToSpace blocksize = 2^40, whose square wraps to 0, are each a SIGFPE in
// libonnx): refused outside [1, 2^31) (blocksize [1, 2^16]) before onnx::checker and shape
// inference see the model.
void check_divisors(const onnx::GraphProto& g, int depth) {
  if (depth > static_cast<int>(kMaxNesting)) return;  // import_graph refuses it with the limit
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      const std::string& k = a.name();
      const bool ints = k == "strides" || k == "dilations" || k == "kernel_shape";
      const bool one = k == "group" || k == "blocksize";
      const int64_t max = k == "blocksize" ? int64_t{1} << 16 : INT32_MAX;
      auto bad = [&](int64_t v) {
        if (v < 1 || v > max)
          fail(Error(Error::Code::kCorrupt, "attribute '" + k + "' out of range: " + std::to_string(v))
                   .member("node " + n.name() + " (" + n.op_type() + ")"));
      };
      if (ints)
        for (int64_t v : a.ints()) bad(v);
      if (one && a.type() == onnx::AttributeProto::INT) bad(a.i());
      if (a.has_g()) check_divisors(a.g(), depth + 1);
      for (const auto& sg : a.graphs()) check_divisors(sg, depth + 1);
    }
}

// Conv / ConvTranspose weights whose declared rank differs from the input's (or is below 3):
// ONNX 1.12's shape inference reads W's dimensions 1.. without checking it has them (a
// ConvTranspose with a rank-1 W is a SIGSEGV in libonnx, found by fuzz_onnx). Refused, with the
// ranks the graph declares (inputs, value_info, initializers), before shape inference runs.
void check_conv_ranks(const onnx::GraphProto& g, int depth) {
  if (depth > static_cast<int>(kMaxNesting)) return;
  std::unordered_map<std::string, int> rank;
  auto declare = [&](const onnx::ValueInfoProto& v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      rank[v.name()] = v.type().tensor_type().shape().dim_size();
  };
  for (const auto& v : g.input()) declare(v);
  for (const auto& v : g.value_info()) declare(v);
  for (const auto& t : g.initializer()) rank[t.name()] = t.dims_size();
  for (const auto& n : g.node()) {
    if ((n.op_type() == "Conv" || n.op_type() == "ConvTranspose") && n.input_size() >= 2 &&
        (n.domain().empty() || n.domain() == "ai.onnx")) {
      auto x = rank.find(n.input(0)), w = rank.find(n.input(1));
      if (w != rank.end() && (w->second < 3 || (x != rank.end() && x->second != w->second)))
        fail(Error(Error::Code::kCorrupt, "weight rank " + std::to_string(w->second) + " does not match input rank " +
                                              (x != rank.end() ? std::to_string(x->second) : std::string("?")))
                 .member("node " + n.name() + " (" + n.op_type() + ")"));
    }
    for (const auto& a : n.attribute()) {
      if (a.has_g()) check_conv_ranks(a.g(), depth + 1);
      for (const auto& sg : a.graphs()) check_conv_ranks(sg, depth + 1);
    }
  }
}

// What onnx::checker is given: the model itself, or — when initializers use external data,
// which the checker would look up relative to the working directory — a copy in which those
// initializers are graph inputs of the same type and shape (the decoder checks their data).
const onnx::ModelProto* checkable(const onnx::ModelProto& mp, std::unique_ptr<onnx::ModelProto>& copy) {
  const auto& inits = mp.graph().initializer();
  if (std::none_of(inits.begin(), inits.end(),
                   [](const onnx::TensorProto& t) { return t.data_location() == onnx::TensorProto::EXTERNAL; }))
    return &mp;
  copy = std::make_unique<onnx::ModelProto>();
  *copy->mutable_opset_import() = mp.opset_import();
  copy->set_ir_version(mp.ir_version());
  onnx::GraphProto& g = *copy->mutable_graph();
  g = mp.graph();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (onnx::TensorProto& t : *g.mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) {
      *kept.Add() = std::move(t);
      continue;
    }
    const auto& ins = g.input();
    if (std::any_of(ins.begin(), ins.end(), [&](const onnx::ValueInfoProto& v) { return v.name() == t.name(); }))
      continue;  // IR < 4: already an input
    auto* in = g.add_input();
    in->set_name(t.name());
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(t.data_type());
    auto* shape = tt->mutable_shape();
    for (int64_t d : t.dims()) shape->add_dim()->set_dim_value(d);
  }
  *g.mutable_initializer() = std::move(kept);
  return copy.get();
}

TensorInfo tensor_info(const onnx::ValueInfoProto& v) {
  TensorInfo info;
  info.name = v.name();
  const auto& t = v.type();
  if (t.value_case() != onnx::TypeProto::kTensorType) {
    info.dtype_known = info.rank_known = false;
    return info;
  }
  if (auto d = onnx_dtype_if(t.tensor_type().elem_type())) info.dtype = *d;
  else info.dtype_known = false;
  if (!t.tensor_type().has_shape()) {
    info.rank_known = false;
    return info;
  }
  for (const auto& d : t.tensor_type().shape().dim()) {
    info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    info.dim_names.push_back(d.has_dim_param() ? d.dim_param() : std::string());
  }
  return info;
}

// A 0-d or 1-d tensor from attribute values (Constant's value_float(s) / value_int(s)).
template <class T>
Tensor small_tensor(const std::vector<T>& v, bool scalar) {
  Storage s = unwrap(Storage::allocate(v.size() * sizeof(T)));
  if (!v.empty()) std::memcpy(s.mutable_data(), v.data(), v.size() * sizeof(T));
  std::vector<int64_t> shape;
  if (!scalar) shape.push_back(static_cast<int64_t>(v.size()));
  return unwrap(Tensor::contiguous_over(std::move(s), dtype_of<T>(), std::move(shape)));
}

struct Scope {
  Graph* g;
  std::unordered_map<std::string, int> names;
  Scope* parent;

  int add(const std::string& name) {
    const int id = static_cast<int>(g->values.size());
    g->values.push_back(ValueInfo{.name = name});
    names[name] = id;
    return id;
  }
  // The value `name` visible here, taking it from enclosing graphs as a capture; -1 if none.
  int lookup(const std::string& name) {
    if (auto it = names.find(name); it != names.end()) return it->second;
    if (!parent) return -1;
    const int outer = parent->lookup(name);
    if (outer < 0) return -1;
    const int id = add(name);
    g->values[id].capture = outer;
    g->captures.push_back(id);
    return id;
  }
};

class Importer {
 public:
  Importer(const std::map<std::string, int64_t>& opsets, TensorDecoder& decoder)
      : opsets_(opsets), decoder_(decoder) {}

  // Doc strings and metadata are text for people: bounded all together (ONNX-14).
  void metadata(uint64_t bytes) {
    metadata_bytes_ = add_u64(metadata_bytes_, bytes);
    check_limit("onnx.max_metadata_bytes", kMaxMetadataBytes, metadata_bytes_, "doc strings and metadata too large");
  }

  void import_graph(onnx::GraphProto& gp, Graph& g, Scope* parent, int depth) {
    if (depth > static_cast<int>(kMaxNesting))
      over_limit("onnx.max_nesting", kMaxNesting, depth, "subgraphs nested too deeply");
    if (gp.sparse_initializer_size() > 0) fail(Error::Code::kUnsupported, "sparse initializers are not supported");
    Scope scope{&g, {}, parent};
    metadata(gp.doc_string().size());
    for (const auto& np : gp.node()) metadata(np.doc_string().size());
    for (onnx::TensorProto& t : *gp.mutable_initializer()) {
      const std::string name = t.name();
      try {
        if (name.empty()) corrupt("initializer without a name");
        if (scope.names.count(name)) corrupt("initializer name given twice");
        const int id = scope.add(name);
        g.values[id].constant = decoder_.read(t);
        g.values[id].has_constant = true;
      } catch (Error& e) {
        throw std::move(e.member("initializer " + name));
      }
    }
    for (const auto& in : gp.input()) {
      if (in.name().empty()) corrupt("graph input without a name");
      if (auto it = scope.names.find(in.name()); it != scope.names.end()) {
        if (g.values[it->second].has_constant && !parent) continue;  // IR < 4: initializers are inputs too
        corrupt("graph input '" + escape(in.name()) + "' given twice");
      }
      g.inputs.push_back(scope.add(in.name()));
    }
    for (int i : topological_order(gp)) import_node(*gp.mutable_node(i), i, g, scope, depth);
    for (const auto& out : gp.output()) {
      const int id = out.name().empty() ? -1 : scope.lookup(out.name());
      if (id < 0) corrupt("graph output '" + escape(out.name()) + "' is produced nowhere");
      g.values[id].is_output = true;
      g.outputs.push_back(id);
    }
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      for (int id : g.nodes[k].inputs)
        if (id >= 0) g.values[id].last_use = static_cast<int>(k);
      for (const Attr& a : g.nodes[k].attrs)
        if (a.g)
          for (int c : a.g->captures) g.values[a.g->values[c].capture].last_use = static_cast<int>(k);
    }
  }

 private:
  // Node indices of `gp` in a topological order (stable: the file's order where it is one).
  std::vector<int> topological_order(const onnx::GraphProto& gp) {
    const int n = gp.node_size();
    nodes_seen_ += static_cast<uint64_t>(n);
    check_limit("onnx.max_nodes", kMaxNodes, nodes_seen_, "too many nodes");
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const auto& o : gp.node(i).output()) {
        if (o.empty()) continue;
        if (!producer.emplace(o, i).second)
          corrupt("value '" + escape(o) + "' is produced twice (node " + std::to_string(i) + ")");
      }
    std::vector<std::vector<int>> users(n);
    std::vector<int> pending(n, 0);
    for (int i = 0; i < n; ++i) {
      std::set<std::string> reads;
      for (const auto& x : gp.node(i).input())
        if (!x.empty()) reads.insert(x);
      for (const auto& a : gp.node(i).attribute()) {
        if (a.has_g()) free_names(a.g(), reads);
        for (const auto& sg : a.graphs()) free_names(sg, reads);
      }
      for (const auto& r : reads)
        if (auto it = producer.find(r); it != producer.end()) {
          users[it->second].push_back(i);
          ++pending[i];
        }
    }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < n; ++i)
      if (!pending[i]) ready.push(i);
    std::vector<int> order;
    while (!ready.empty()) {
      const int i = ready.top();
      ready.pop();
      order.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0) ready.push(u);
    }
    if (static_cast<int>(order.size()) != n) {
      for (int i = 0; i < n; ++i)
        if (pending[i])
          corrupt("the graph has a cycle through node '" + escape(gp.node(i).name()) + "' (" +
                  escape(gp.node(i).op_type()) + ")");
    }
    return order;
  }

  void import_node(onnx::NodeProto& np, int index, Graph& g, Scope& scope, int depth) {
    Node n;
    n.op_type = np.op_type();
    n.name = np.name().empty() ? np.op_type() + "#" + std::to_string(index) : np.name();
    try {
      const std::string domain = domain_of(np.domain());
      auto opset = opsets_.find(domain);
      if (opset == opsets_.end())
        corrupt("domain '" + escape(domain.empty() ? "ai.onnx" : domain) + "' is not imported by the model");
      const onnx::OpSchema* schema =
          onnx::OpSchemaRegistry::Schema(np.op_type(), static_cast<int>(opset->second), domain);
      if (!schema)
        fail(Error::Code::kUnsupported, "'" + escape(np.op_type()) + "' is not an operator of " +
                                            (domain.empty() ? std::string("ai.onnx") : escape(domain)) + " opset " +
                                            std::to_string(opset->second));
      n.version = schema->since_version();
      std::set<std::string> seen;
      for (onnx::AttributeProto& a : *np.mutable_attribute()) {
        if (!seen.insert(a.name()).second) corrupt("attribute '" + escape(a.name()) + "' given twice");
        n.attrs.push_back(attribute(a, scope, depth));
      }
      for (const auto& x : np.input()) {
        if (x.empty()) {
          n.inputs.push_back(-1);
          continue;
        }
        const int id = scope.lookup(x);
        if (id < 0) corrupt("input '" + escape(x) + "' is produced nowhere");
        n.inputs.push_back(id);
      }
      const bool constant = np.op_type() == "Constant" && domain.empty();
      n.op = find_op(domain, np.op_type(), n.version);
      n.fast = find_fast(n.op);
      if (!n.op && !constant)
        fail(Error::Code::kUnsupported, "torchless does not implement " +
                                            (domain.empty() ? std::string() : escape(domain) + ".") +
                                            escape(np.op_type()) + "-" + std::to_string(n.version));
      const int self = static_cast<int>(g.nodes.size());
      for (const auto& x : np.output()) {
        if (x.empty()) {
          n.outputs.push_back(-1);
          continue;
        }
        if (scope.names.count(x)) corrupt("value '" + escape(x) + "' is produced twice");
        const int id = scope.add(x);
        g.values[id].producer = self;
        n.outputs.push_back(id);
      }
      if (constant) return make_constant(n, g);
    } catch (Error& e) {
      throw std::move(e.member("node " + n.name + " (" + n.op_type + ")"));
    }
    g.nodes.push_back(std::move(n));
  }

  // A Constant node's value becomes a constant of the graph (the node is dropped).
  void make_constant(const Node& n, Graph& g) {
    if (n.attrs.size() != 1 || n.outputs.size() != 1 || n.outputs[0] < 0)
      corrupt("Constant needs exactly one value attribute and one output");
    const Attr& a = n.attrs[0];
    Tensor t;
    if (a.name == "value" && a.type == Attr::Type::kTensor) t = a.t;
    else if (a.name == "value_float" && a.type == Attr::Type::kFloat) t = small_tensor<float>({a.f}, true);
    else if (a.name == "value_floats" && a.type == Attr::Type::kFloats) t = small_tensor<float>(a.floats, false);
    else if (a.name == "value_int" && a.type == Attr::Type::kInt) t = small_tensor<int64_t>({a.i}, true);
    else if (a.name == "value_ints" && a.type == Attr::Type::kInts) t = small_tensor<int64_t>(a.ints, false);
    else if (a.name == "value_string" || a.name == "value_strings")
      fail(Error::Code::kUnsupported, "string constants are not supported");
    else if (a.name == "sparse_value") fail(Error::Code::kUnsupported, "sparse constants are not supported");
    else corrupt("Constant attribute '" + escape(a.name) + "' is not a value");
    ValueInfo& v = g.values[n.outputs[0]];
    v.producer = -1;
    v.constant = std::move(t);
    v.has_constant = true;
  }

  Attr attribute(onnx::AttributeProto& a, Scope& scope, int depth) {
    using AP = onnx::AttributeProto;
    Attr r;
    r.name = a.name();
    const int populated = a.has_f() + a.has_i() + a.has_s() + a.has_t() + a.has_g() + a.has_sparse_tensor() +
                          a.has_tp() + (a.floats_size() > 0) + (a.ints_size() > 0) + (a.strings_size() > 0) +
                          (a.tensors_size() > 0) + (a.graphs_size() > 0) + (a.sparse_tensors_size() > 0) +
                          (a.type_protos_size() > 0);
    auto need = [&](bool present, bool list) {
      if (populated > 1 || (!present && !(list && populated == 0)))
        corrupt("attribute '" + escape(a.name()) + "' does not hold the type it declares");
    };
    if (!a.ref_attr_name().empty()) fail(Error::Code::kUnsupported, "attribute references outside functions");
    switch (a.type()) {
      case AP::FLOAT: need(a.has_f(), false); r.type = Attr::Type::kFloat; r.f = a.f(); break;
      case AP::INT: need(a.has_i(), false); r.type = Attr::Type::kInt; r.i = a.i(); break;
      case AP::STRING: need(a.has_s(), false); r.type = Attr::Type::kString; r.s = a.s(); break;
      case AP::FLOATS:
        need(a.floats_size() > 0, true);
        r.type = Attr::Type::kFloats;
        r.floats.assign(a.floats().begin(), a.floats().end());
        break;
      case AP::INTS:
        need(a.ints_size() > 0, true);
        r.type = Attr::Type::kInts;
        r.ints.assign(a.ints().begin(), a.ints().end());
        break;
      case AP::STRINGS:
        need(a.strings_size() > 0, true);
        r.type = Attr::Type::kStrings;
        r.strings.assign(a.strings().begin(), a.strings().end());
        break;
      case AP::TENSOR:
        need(a.has_t(), false);
        r.type = Attr::Type::kTensor;
        r.t = decoder_.read(*a.mutable_t());
        break;
      case AP::GRAPH:
        need(a.has_g(), false);
        r.type = Attr::Type::kGraph;
        r.g = std::make_shared<Graph>();
        r.g->parent = scope.g;
        import_graph(*a.mutable_g(), *r.g, &scope, depth + 1);
        break;
      case AP::TYPE_PROTO:
        need(a.has_tp(), false);
        r.type = Attr::Type::kTypeProto;
        break;
      case AP::SPARSE_TENSOR:
      case AP::SPARSE_TENSORS: fail(Error::Code::kUnsupported, "sparse tensor attributes are not supported");
      default:
        fail(Error::Code::kUnsupported,
             "attribute '" + escape(a.name()) + "' of type " + std::to_string(a.type()) + " is not supported");
    }
    return r;
  }

  const std::map<std::string, int64_t>& opsets_;
  TensorDecoder& decoder_;
  uint64_t nodes_seen_ = 0;
  uint64_t metadata_bytes_ = 0;
};

}  // namespace

std::shared_ptr<const Model> Model::load(const uint8_t* data, uint64_t size, const std::string& path,
                                         const EngineOptions& options) {
  std::unique_ptr<onnx::ModelProto> proto = parse_model(data, size, options.max_model_bytes);
  onnx::ModelProto& mp = *proto;
  if (!mp.has_ir_version()) fail(Error::Code::kUnsupported, "ONNX model without ir_version");
  if (mp.ir_version() > kMaxIrVersion)
    fail(Error::Code::kUnsupported, "IR version " + std::to_string(mp.ir_version()) + " is newer than " +
                                        std::to_string(kMaxIrVersion) + " (ONNX 1.12)");
  if (!mp.has_graph()) corrupt("ONNX model without a graph");
  if (mp.functions_size() > 0) fail(Error::Code::kUnsupported, "model-local functions are not supported");

  auto model = std::make_shared<Model>();
  model->path = path;
  model->options = options;
  model->threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  model->producer = mp.producer_name() + (mp.producer_version().empty() ? "" : " " + mp.producer_version());
  std::map<std::string, int64_t> opsets;
  for (const auto& o : mp.opset_import()) {
    const std::string d = domain_of(o.domain());
    if (!opsets.emplace(d, o.version()).second)
      corrupt("domain '" + escape(d.empty() ? "ai.onnx" : d) + "' is imported twice");
  }
  if (mp.ir_version() < 3 && opsets.empty()) opsets[""] = 1;  // IR 1-2 had no opset_import
  if (auto it = opsets.find(""); it != opsets.end()) {
    if (it->second > kMaxOpset)
      fail(Error::Code::kUnsupported, "ai.onnx opset " + std::to_string(it->second) + " is newer than " +
                                          std::to_string(kMaxOpset));
    model->opset = it->second;
  }
  TensorDecoder decoder(path, {});
  Importer importer(opsets, decoder);
  importer.metadata(mp.doc_string().size());
  for (const auto& kv : mp.metadata_props()) importer.metadata(kv.key().size() + kv.value().size());
  // onnx::checker and shape inference read the initializers, which the import then moves out
  // of the message, so they run first; a checker error is reported after the import, whose
  // own refusals name the node and are more precise.
  check_divisors(mp.graph(), 0);
  check_conv_ranks(mp.graph(), 0);
  std::string checker_error;
  std::unique_ptr<onnx::ModelProto> copy;
  if (options.check) {
    try {
      onnx::checker::check_model(*checkable(mp, copy));
    } catch (const std::exception& e) {
      checker_error = escape(e.what(), 512);
    }
  }
  if (checker_error.empty()) {  // advisory (1.2): fills the types of values the model leaves open
    try {
      onnx::ShapeInferenceOptions sio{/*check_type=*/true, /*error_mode=*/0, /*enable_data_propagation=*/true};
      onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), sio);
    } catch (const std::exception& e) {
      model->warnings.push_back(std::string("shape inference: ") + escape(e.what(), 512));
    }
  }
  onnx::GraphProto& gp = *mp.mutable_graph();
  importer.import_graph(gp, model->graph, nullptr, 0);
  if (!checker_error.empty()) corrupt("onnx::checker: " + checker_error);
  std::set<std::string> consts;
  for (const auto& t : gp.initializer()) consts.insert(t.name());
  for (const auto& in : gp.input())
    if (!consts.count(in.name())) model->inputs.push_back(tensor_info(in));
  for (const auto& out : gp.output()) model->outputs.push_back(tensor_info(out));
  return model;
}

}  // namespace torchless::engine
