// ONNX initializers as a state dict, and the model's description as values. Parsing and
// tensor decoding under the hostile-input rules (ONNX-01..08) are the engine's
// (engine/proto.h).
#include <map>
#include <set>

#include "core/check.h"
#include "engine/proto.h"
#include "formats/readers.h"

namespace torchless::formats {

// "float32", or what the value is when not a tensor of a known element type.
std::string type_text(const onnx::TypeProto& t) {
  switch (t.value_case()) {
    case onnx::TypeProto::kTensorType:
      if (auto d = engine::onnx_dtype_if(t.tensor_type().elem_type())) return std::string(dtype_name(*d));
      if (t.tensor_type().elem_type() == onnx::TensorProto::STRING) return "string";
      return "onnx_type_" + std::to_string(t.tensor_type().elem_type());
    case onnx::TypeProto::kSequenceType: return "sequence";
    case onnx::TypeProto::kMapType: return "map";
    case onnx::TypeProto::kOptionalType: return "optional";
    case onnx::TypeProto::kSparseTensorType: return "sparse_tensor";
    default: return "unknown";
  }
}

// "[batch, 3, 224, 224]": dim_value, dim_param, or "?"; "?" alone when the rank is unknown.
std::string shape_text(const onnx::TypeProto& t) {
  if (t.value_case() != onnx::TypeProto::kTensorType || !t.tensor_type().has_shape()) return "?";
  std::string s = "[";
  const auto& dims = t.tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    s += i ? ", " : "";
    if (dims[i].has_dim_value()) s += std::to_string(dims[i].dim_value());
    else if (dims[i].has_dim_param() && !dims[i].dim_param().empty()) s += escape(dims[i].dim_param(), 64);
    else s += "?";
  }
  return s + "]";
}

// The model's description as inspect's values (DESIGN.md flattening): versions, producer,
// opsets, the graph's real inputs (initializers excluded) and outputs with type and shape, and
// how many nodes of each operator it has.
std::vector<std::pair<std::string, Value>> model_values(const onnx::ModelProto& m, const std::set<std::string>& inits) {
  std::vector<std::pair<std::string, Value>> v;
  auto add = [&](std::string k, Value x) { v.emplace_back(std::move(k), std::move(x)); };
  add("ir_version", Value::integer(m.ir_version()));
  add("producer_name", Value::string(escape(m.producer_name(), 256)));
  add("producer_version", Value::string(escape(m.producer_version(), 256)));
  for (const auto& o : m.opset_import())
    add("opset_import." + (o.domain().empty() ? std::string("ai.onnx") : escape(o.domain(), 128)),
        Value::integer(o.version()));
  const onnx::GraphProto& g = m.graph();
  add("graph.name", Value::string(escape(g.name(), 256)));
  auto io = [&](const char* what, const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list) {
    int i = 0;
    for (const auto& x : list) {
      if (inits.count(x.name())) continue;  // IR < 4 lists initializers as inputs too
      const std::string k = std::string("graph.") + what + "." + std::to_string(i++);
      add(k + ".name", Value::string(escape(x.name(), 256)));
      add(k + ".dtype", Value::string(type_text(x.type())));
      add(k + ".shape", Value::string(shape_text(x.type())));
    }
  };
  io("inputs", g.input());
  io("outputs", g.output());
  add("graph.nodes", Value::integer(g.node_size()));
  std::map<std::string, int64_t> ops;
  for (const auto& n : g.node())
    ++ops[(n.domain().empty() || n.domain() == "ai.onnx" ? "" : escape(n.domain(), 128) + ".") + escape(n.op_type(), 128)];
  for (const auto& [op, count] : ops) add("graph.ops." + op, Value::integer(count));
  return v;
}

ReadResult read_onnx(const FilePtr& file, const LoadOptions& options) {
  auto model = engine::parse_model(reinterpret_cast<const uint8_t*>(file->data()), file->size(),
                                   options.limits.onnx_max_model_bytes);
  if (!model->has_ir_version()) fail(Error::Code::kUnsupported, "ONNX model without ir_version");
  if (!model->has_graph()) corrupt("ONNX model without a graph");
  onnx::GraphProto& graph = *model->mutable_graph();
  if (graph.sparse_initializer_size() > 0) fail(Error::Code::kUnsupported, "sparse initializers are not supported");
  check_limit("zip.max_entries", options.limits.zip_max_entries, static_cast<uint64_t>(graph.initializer_size()),
              "too many initializers");

  ReadResult r;
  r.file.format = Format::kOnnx;
  r.file.root = Value::dict(true);
  ValueDict& dict = r.file.root.as_dict();
  engine::TensorDecoder reader(file->path(), {.max_ndim = options.limits.tensor_max_ndim,
                                              .max_numel = options.limits.tensor_max_numel,
                                              .map = options.map});
  std::set<std::string> names;
  for (onnx::TensorProto& t : *graph.mutable_initializer()) {
    const std::string name = t.name();
    try {
      if (name.empty()) corrupt("initializer without a name");
      if (!names.insert(name).second) corrupt("initializer name given twice");
      dict.add(name, Value::tensor(reader.read(t)));
    } catch (Error& e) {
      throw std::move(e.member(name));
    }
  }
  r.file.values = model_values(*model, names);
  return r;
}

}  // namespace torchless::formats
