// The OpenAPI document of openapi.h. Plain nlohmann::ordered_json built top to bottom: the key
// order is the reading order of /docs (routes, then schemas).
#include "serve/openapi.h"

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace torchless::serve {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kMaxExampleElements = 64;
constexpr size_t kMaxNesting = 32;  // the JSON nesting limit of the request parsers (2.2, 2.3)
// A 1x1 grey RGB PNG (69 bytes, made with PIL): a valid raw-image input for any image model.
constexpr const char* kTinyPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mNoaGgAAAMEAYF1LgG8AAAAAElFTkSuQmCC";
constexpr const char* kDatatypes[] = {"BOOL",  "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                      "INT32", "INT64", "FP16",   "FP32",   "FP64",   "BYTES"};

Json ref(std::string_view kind, std::string_view name) {
  return Json{{"$ref", "#/components/" + std::string(kind) + "/" + std::string(name)}};
}
Json schema_ref(std::string_view name) { return ref("schemas", name); }

// ---- examples ------------------------------------------------------------------------------

// The zero of a datatype as the protocols write it.
Json zero_of(const std::string& datatype) {
  if (datatype == "BOOL") return false;
  if (datatype == "BYTES") return "";
  if (datatype == "FP16" || datatype == "FP32" || datatype == "FP64") return 0.0;
  return 0;
}

// The shape of an example: the batch and every other variable dimension (-1) become 1.
std::vector<int64_t> example_shape(const std::vector<int64_t>& shape) {
  std::vector<int64_t> out;
  for (int64_t d : shape) out.push_back(d < 0 ? 1 : d);
  return out;
}

// Element count of an example shape (no -1 left); -1 when it does not fit in int64.
int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0) return 0;
  }
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  }
  return n;
}

// Flat zeros, at most kMaxExampleElements of them; `note` says when data was cut.
struct FlatZeros {
  Json data = Json::array();
  std::string note;  // "" or " (data cut to 64 of N elements; a request must send all of them)"
};
FlatZeros flat_zeros(const std::string& datatype, const std::vector<int64_t>& shape) {
  FlatZeros z;
  const int64_t n = element_count(shape);
  const int64_t shown = n < 0 || n > kMaxExampleElements ? kMaxExampleElements : n;
  for (int64_t i = 0; i < shown; ++i) z.data.push_back(zero_of(datatype));
  if (shown != n) {
    z.note = " (data cut to " + std::to_string(kMaxExampleElements) + " of " +
             (n < 0 ? std::string("more than 2^63") : std::to_string(n)) +
             " elements; a request must send all of them)";
  }
  return z;
}

// Zeros nested like tensor.tolist(), stopping once `budget` leaves are written.
Json nested_zeros(const std::vector<int64_t>& shape, size_t dim, const Json& zero, int64_t& budget) {
  if (dim == shape.size()) {
    --budget;
    return zero;
  }
  Json a = Json::array();
  for (int64_t i = 0; i < shape[dim] && budget > 0; ++i) a.push_back(nested_zeros(shape, dim + 1, zero, budget));
  return a;
}

std::string latest_version(const ModelDesc& m) { return m.versions.empty() ? "1" : m.versions.back(); }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Json tensor_metadata(const TensorDesc& t) {
  return Json{{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}};
}

Json model_metadata(const ModelDesc& m) {
  Json in = Json::array(), out = Json::array();
  for (const TensorDesc& t : m.inputs) in.push_back(tensor_metadata(t));
  for (const TensorDesc& t : m.outputs) out.push_back(tensor_metadata(t));
  return Json{{"name", m.name}, {"versions", m.versions}, {"platform", m.platform}, {"inputs", in}, {"outputs", out}};
}

Json example(std::string summary, Json value) {
  return Json{{"summary", std::move(summary)}, {"value", std::move(value)}};
}

// The infer request examples of one model, keyed by model name (the page picks the example of the
// selected {name}); an image model also gets "<name> (tensor input)".
void add_infer_examples(const ModelDesc& m, Json& examples) {
  Json tensors = Json::array();
  std::string note;
  for (const TensorDesc& t : m.inputs) {
    if (t.name == m.raw_image_input) continue;
    const std::vector<int64_t> shape = example_shape(t.shape);
    FlatZeros z = flat_zeros(t.datatype, shape);
    if (note.empty()) note = z.note;
    tensors.push_back(Json{{"name", t.name}, {"shape", shape}, {"datatype", t.datatype}, {"data", std::move(z.data)}});
  }
  Json tensor_example = example(m.name + ": zeros, batch 1" + note, Json{{"inputs", std::move(tensors)}});
  if (m.raw_image_input.empty()) {
    examples[m.name] = std::move(tensor_example);
    return;
  }
  Json image_input = {{"name", m.raw_image_input}, {"shape", {1}}, {"datatype", "BYTES"}, {"data", {kTinyPngBase64}}};
  examples[m.name] = example(m.name + ": a 1x1 PNG (base64) as the raw-image input '" + m.raw_image_input + "'",
                             Json{{"inputs", Json::array({image_input})}});
  examples[m.name + " (tensor input)"] = std::move(tensor_example);
}

Json infer_response_example(const ModelDesc& m) {
  Json outputs = Json::array();
  for (const TensorDesc& t : m.outputs) {
    const std::vector<int64_t> shape = example_shape(t.shape);
    outputs.push_back(Json{{"name", t.name}, {"datatype", t.datatype}, {"shape", shape},
                           {"data", flat_zeros(t.datatype, shape).data}});
  }
  return example(m.name + ": batch 1",
                 Json{{"model_name", m.name}, {"model_version", latest_version(m)}, {"outputs", std::move(outputs)}});
}

// ---- responses -----------------------------------------------------------------------------

Json json_body(Json schema, const char* example_key, Json example_value) {
  Json media = {{"schema", std::move(schema)}};
  media[example_key] = std::move(example_value);
  return Json{{"application/json", std::move(media)}};
}

Json retry_after() {
  return Json{{"Retry-After",
               {{"description", "Seconds to wait before retrying (always 1)."}, {"schema", {{"type", "integer"}}}}}};
}

// An error answer under /v2: {"error": "<message>"}.
Json v2_error(const std::string& description, const std::string& message, bool retry = false) {
  Json r = {{"description", description}};
  if (retry) r["headers"] = retry_after();
  r["content"] = json_body(schema_ref("Error"), "example", Json{{"error", message}});
  return r;
}

// A FastAPI-style error answer of /predict: {"detail": "<message>"}.
Json detail_error(const std::string& description, const std::string& message, bool retry = false) {
  Json r = {{"description", description}};
  if (retry) r["headers"] = retry_after();
  r["content"] = json_body(schema_ref("HTTPError"), "example", Json{{"detail", message}});
  return r;
}

Json object_schema(Json properties, Json required) {
  return Json{{"type", "object"}, {"required", std::move(required)}, {"properties", std::move(properties)}};
}

Json operation(const char* tag, const char* id, const std::string& summary, const std::string& description) {
  return Json{{"tags", {tag}},
              {"summary", summary},
              {"description", description},
              {"operationId", id},
              {"parameters", Json::array({ref("parameters", "RequestId")})}};
}

constexpr const char* kFastApi = "FastAPI-compatible";
constexpr const char* kOip = "Open Inference Protocol";
constexpr const char* kOps = "Operations";

// ---- routes --------------------------------------------------------------------------------

Json predict_path(const ModelDesc& m) {
  const TensorDesc* input = nullptr;
  for (const TensorDesc& t : m.inputs) {
    if (t.name != m.raw_image_input) {
      input = &t;
      break;
    }
  }
  std::vector<int64_t> sample;  // the declared shape without the batch dimension
  if (input) sample.assign(input->shape.begin() + (m.max_batch_size > 0 && !input->shape.empty() ? 1 : 0),
                           input->shape.end());
  const FlatZeros values = input ? flat_zeros(input->datatype, example_shape(sample)) : FlatZeros{};
  const std::string sample_text = shape_text(example_shape(sample));

  std::string desc = "Served by model '" + m.name + "'. JSON: `values` is flat, or nested to the per-sample shape " +
                     sample_text + (input ? " of input '" + input->name + "' (" + input->datatype + ")" : "") +
                     "; the server adds the batch dimension of 1. Multipart: the part named `file` is a JPEG or PNG" +
                     (m.raw_image_input.empty() ? " (this model has no image preprocessing: 415)." : ".") +
                     " Errors answer FastAPI-style `{\"detail\": ...}` bodies.";
  Json op = operation(kFastApi, "predict", "Predict (the FastAPI app's route)", desc);

  Json multipart = object_schema(
      {{"file", {{"type", "string"}, {"format", "binary"}, {"description", "A JPEG or PNG file."}}}}, {"file"});
  op["requestBody"] = {
      {"required", true},
      {"content",
       {{"application/json",
         {{"schema", schema_ref("PredictRequest")},
          {"examples", {{m.name, example(m.name + ": zeros" + values.note, Json{{"values", values.data}})}}}}},
        {"multipart/form-data", {{"schema", multipart}}}}}};

  Json prediction;
  if (m.has_labels) {
    prediction = Json{{"prediction", "tabby"}};
  } else if (!m.outputs.empty()) {
    const std::vector<int64_t> shape = example_shape(m.outputs[0].shape);
    int64_t budget = kMaxExampleElements;
    prediction = Json{{"prediction", shape.size() <= kMaxNesting
                                         ? nested_zeros(shape, 0, zero_of(m.outputs[0].datatype), budget)
                                         : flat_zeros(m.outputs[0].datatype, shape).data}};
  } else {
    prediction = Json{{"prediction", Json::array()}};
  }
  Json validation = {{"detail",
                      {{{"loc", {"body", "values"}},
                        {"msg", "expected shape " + sample_text + ", got [1]"},
                        {"type", "value_error.shape"}}}}};
  op["responses"] = {
      {"200",
       {{"description", "The prediction: the first output nested like tensor.tolist(), or a class name."},
        {"content", json_body(schema_ref("PredictResponse"), "example", prediction)}}},
      {"400", detail_error("Broken multipart framing, or a corrupt image.", "There was an error parsing the body")},
      {"413", detail_error("Body or image over its limit.", "request body larger than 16777216 bytes")},
      {"415", detail_error("Content-Type neither JSON nor multipart, or an image the model cannot take.",
                           "Unsupported Media Type: expected application/json or multipart/form-data")},
      {"422",
       {{"description", "Validation error (FastAPI's body)."},
        {"content", json_body(schema_ref("HTTPValidationError"), "example", validation)}}},
      {"429", detail_error("The model's queue is full.", "Too Many Requests", true)},
      {"503", detail_error("Not ready, draining, or the queue wait timed out.", "Service Unavailable", true)}};
  return Json{{"post", std::move(op)}};
}

Json simple_get(const char* tag, const char* id, const char* summary, const char* description,
                Json responses) {
  Json op = operation(tag, id, summary, description);
  op["responses"] = std::move(responses);
  return Json{{"get", std::move(op)}};
}

Json flag_schema(const char* flag, bool with_name) {
  Json props = {{flag, {{"type", "boolean"}}}};
  Json required = {flag};
  if (with_name) {
    props = {{"name", {{"type", "string"}}}, {flag, {{"type", "boolean"}}}};
    required = {"name", flag};
  }
  return object_schema(std::move(props), std::move(required));
}

Json model_paths(const std::vector<ModelDesc>& models, bool versioned, const std::string& first_model) {
  const std::string v = versioned ? " version" : "";
  const std::string default_note =
      versioned ? "" : " Without /versions/{version}, the highest loaded version allowed by the policy is used.";
  Json metadata_examples = Json::object(), infer_examples = Json::object(), response_examples = Json::object();
  for (const ModelDesc& m : models) {
    metadata_examples[m.name] = example(m.name, model_metadata(m));
    add_infer_examples(m, infer_examples);
    response_examples[m.name] = infer_response_example(m);
  }
  Json unknown = v2_error("Unknown model or version.", versioned ? "unknown version '9' of model '" + first_model + "'"
                                                                   : std::string("unknown model 'foo'"));

  Json params = Json::array({ref("parameters", "ModelName")});
  if (versioned) params.push_back(ref("parameters", "ModelVersion"));
  auto with_params = [&params](Json op) {
    for (const Json& p : params) op["parameters"].push_back(p);
    return op;
  };

  Json meta = operation(kOip, versioned ? "model_version_metadata" : "model_metadata", "Model" + v + " metadata",
                        "Name, versions, platform and tensors; -1 marks the batch and other variable dimensions." +
                            default_note);
  Json meta_media = {{"schema", schema_ref("ModelMetadata")}};
  if (!metadata_examples.empty()) meta_media["examples"] = metadata_examples;
  meta["responses"] = {{"200", {{"description", "Model metadata."}, {"content", {{"application/json", meta_media}}}}},
                       {"404", unknown}};

  Json ready = operation(kOip, versioned ? "model_version_ready" : "model_ready", "Model" + v + " readiness",
                         "Any status other than 200 means not ready." + default_note);
  ready["responses"] = {
      {"200",
       {{"description", "Ready."},
        {"content", json_body(flag_schema("ready", true), "example", Json{{"name", first_model}, {"ready", true}})}}},
      {"404", unknown},
      {"503",
       {{"description", "Loading or unloading."},
        {"content", json_body(flag_schema("ready", true), "example", Json{{"name", first_model}, {"ready", false}})}}}};

  Json infer = operation(
      kOip, versioned ? "model_version_infer" : "model_infer", "Inference" + v,
      "JSON InferenceRequest; `data` is flat or nested to the full rank, row-major. Binary tensor data extension: "
      "send header Inference-Header-Content-Length: n; the first n bytes of the body are the JSON request, the "
      "rest the raw little-endian data of each input with parameters.binary_data_size, in order. Outputs with "
      "binary_data (or binary_data_output on the request) come back the same way as application/octet-stream." +
          default_note);
  infer["parameters"].push_back(
      Json{{"name", "Inference-Header-Content-Length"},
           {"in", "header"},
           {"required", false},
           {"description", "Binary tensor data extension: byte length of the JSON part of the body."},
           {"schema", {{"type", "integer"}, {"minimum", 0}}}});
  Json infer_media = {{"schema", schema_ref("InferenceRequest")}};
  if (!infer_examples.empty()) infer_media["examples"] = infer_examples;
  Json binary = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
  infer["requestBody"] = {
      {"description", "JSON, or with Inference-Header-Content-Length the JSON part followed by raw tensor data."},
      {"required", true},
      {"content", {{"application/json", infer_media}, {"application/octet-stream", binary}}}};
  Json response_media = {{"schema", schema_ref("InferenceResponse")}};
  if (!response_examples.empty()) response_media["examples"] = response_examples;
  infer["responses"] = {
      {"200",
       {{"description", "Inference response; application/octet-stream when some outputs are binary."},
        {"headers",
         {{"Inference-Header-Content-Length",
           {{"description", "With binary outputs: byte length of the JSON part."}, {"schema", {{"type", "integer"}}}}}}},
        {"content", {{"application/json", response_media}, {"application/octet-stream", binary}}}}},
      {"400", v2_error("Invalid request: JSON syntax, schema, name, datatype or shape mismatch, bad binary framing, "
                       "batch over max_batch_size.",
                       "unexpected datatype 'FP64' for input 'input', expected 'FP32'")},
      {"404", unknown},
      {"413", v2_error("Body, tensor-element or image limit exceeded.", "request body larger than 16777216 bytes")},
      {"415", v2_error("Content-Type other than JSON without the binary header, or a compressed request.",
                       "unsupported Content-Type 'text/plain'")},
      {"429", v2_error("The model's queue is full.", "Too Many Requests", true)},
      {"500", v2_error("Model execution failed on a valid request.", "model execution failed")},
      {"503", v2_error("Loading, draining, queue wait timed out, or the connection limit.", "Service Unavailable", true)}};

  const std::string base = versioned ? "/v2/models/{name}/versions/{version}" : "/v2/models/{name}";
  return Json{{base, {{"get", with_params(std::move(meta))}}},
              {base + "/ready", {{"get", with_params(std::move(ready))}}},
              {base + "/infer", {{"post", with_params(std::move(infer))}}}};
}

// ---- schemas -------------------------------------------------------------------------------

Json components(const std::vector<ModelDesc>& models) {
  Json names = Json::array();
  std::string versions_note;
  for (const ModelDesc& m : models) {
    names.push_back(m.name);
    versions_note += (versions_note.empty() ? " Loaded: " : "; ") + m.name + " ";
    for (size_t i = 0; i < m.versions.size(); ++i) versions_note += (i ? ", " : "") + m.versions[i];
    if (m.versions.empty()) versions_note += "(none)";
  }
  Json name_schema = {{"type", "string"}};
  if (!names.empty()) name_schema["enum"] = names;
  Json version_schema = {{"type", "string"}};
  if (!models.empty()) version_schema["example"] = latest_version(models[0]);

  const Json datatype = {{"type", "string"}, {"enum", kDatatypes}};
  const Json shape = {{"type", "array"}, {"items", {{"type", "integer"}, {"format", "int64"}}}};
  const Json string = {{"type", "string"}};
  const Json any = Json::object();

  Json schemas = {
      {"PredictRequest",
       {{"title", "PredictRequest"},
        {"type", "object"},
        {"required", {"values"}},
        {"properties",
         {{"values",
           {{"title", "Values"},
            {"type", "array"},
            {"items", any},
            {"description", "Numbers, flat or nested to the model input's per-sample shape."}}}}}}},
      {"PredictResponse",
       {{"title", "PredictResponse"},
        {"type", "object"},
        {"required", {"prediction"}},
        {"properties",
         {{"prediction",
           {{"description", "The first output nested like tensor.tolist() (null for non-finite values), or the "
                            "class name (argmax with labels), or the class index (argmax without labels)."}}},
          {"top_k",
           {{"type", "array"},
            {"description", "With top_k postprocessing."},
            {"items", object_schema({{"label", string},
                                     {"index", {{"type", "integer"}}},
                                     {"score", {{"type", "number"}}}},
                                    {"index", "score"})}}}}}}},
      {"HTTPError",
       object_schema({{"detail", {{"title", "Detail"}, {"type", "string"}}}}, {"detail"})},
      {"HTTPValidationError",
       {{"title", "HTTPValidationError"},
        {"type", "object"},
        {"properties",
         {{"detail", {{"title", "Detail"}, {"type", "array"}, {"items", schema_ref("ValidationError")}}}}}}},
      {"ValidationError",
       {{"title", "ValidationError"},
        {"required", {"loc", "msg", "type"}},
        {"type", "object"},
        {"properties",
         {{"loc",
           {{"title", "Location"},
            {"type", "array"},
            {"items", {{"anyOf", {{{"type", "string"}}, {{"type", "integer"}}}}}}}},
          {"msg", {{"title", "Message"}, {"type", "string"}}},
          {"type", {{"title", "Error Type"}, {"type", "string"}}}}}}},
      {"InferenceRequest",
       {{"type", "object"},
        {"required", {"inputs"}},
        {"properties",
         {{"id", {{"type", "string"}, {"maxLength", 256}, {"description", "Echoed in the response."}}},
          {"parameters",
           {{"type", "object"},
            {"properties",
             {{"binary_data_output", {{"type", "boolean"}, {"description", "Return every output as binary data."}}},
              {"timeout",
               {{"type", "integer"},
                {"minimum", 0},
                {"description", "Microseconds of queue wait allowed for this request."}}}}},
            {"additionalProperties", true}}},
          {"inputs", {{"type", "array"}, {"minItems", 1}, {"items", schema_ref("RequestInput")}}},
          {"outputs", {{"type", "array"}, {"items", schema_ref("RequestOutput")}}}}}}},
      {"RequestInput",
       {{"type", "object"},
        {"required", {"name", "shape", "datatype"}},
        {"properties",
         {{"name", string},
          {"shape", {{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", 0}}}}},
          {"datatype", datatype},
          {"parameters",
           {{"type", "object"},
            {"properties",
             {{"binary_data_size",
               {{"type", "integer"}, {"minimum", 0}, {"description", "Byte size of this input's raw data."}}}}}}},
          {"data",
           {{"type", "array"},
            {"items", any},
            {"description", "Row-major, flat or nested to the full rank. BYTES elements are strings (base64 of "
                            "the file for a raw-image input)."}}}}}}},
      {"RequestOutput",
       {{"type", "object"},
        {"required", {"name"}},
        {"properties",
         {{"name", string},
          {"parameters",
           {{"type", "object"},
            {"properties",
             {{"binary_data", {{"type", "boolean"}}},
              {"classification",
               {{"type", "integer"},
                {"minimum", 1},
                {"description", "Replace the output by its top k as \"<score>:<index>[:<label>]\" strings."}}}}}}}}}}},
      {"InferenceResponse",
       {{"type", "object"},
        {"required", {"model_name", "model_version", "outputs"}},
        {"properties",
         {{"model_name", string},
          {"model_version", string},
          {"id", string},
          {"parameters", {{"type", "object"}}},
          {"outputs", {{"type", "array"}, {"items", schema_ref("ResponseOutput")}}}}}}},
      {"ResponseOutput",
       {{"type", "object"},
        {"required", {"name", "shape", "datatype"}},
        {"properties",
         {{"name", string},
          {"shape", shape},
          {"datatype", datatype},
          {"parameters",
           {{"type", "object"},
            {"properties", {{"binary_data_size", {{"type", "integer"}, {"minimum", 0}}}}}}},
          {"data",
           {{"type", "array"},
            {"items", any},
            {"description", "Flat, row-major; null for non-finite floats. Absent for a binary output."}}}}}}},
      {"ModelMetadata",
       {{"type", "object"},
        {"required", {"name", "platform", "inputs", "outputs"}},
        {"properties",
         {{"name", string},
          {"versions", {{"type", "array"}, {"items", string}}},
          {"platform", {{"type", "string"}, {"enum", {"onnx_onnxv1", "pytorch_torchscript"}}}},
          {"inputs", {{"type", "array"}, {"items", schema_ref("TensorMetadata")}}},
          {"outputs", {{"type", "array"}, {"items", schema_ref("TensorMetadata")}}}}}}},
      {"TensorMetadata",
       {{"type", "object"},
        {"required", {"name", "datatype", "shape"}},
        {"properties",
         {{"name", string},
          {"datatype", datatype},
          {"shape", {{"type", "array"}, {"description", "-1 marks a variable dimension."}, {"items", {{"type", "integer"}}}}}}}}},
      {"ServerMetadata",
       object_schema({{"name", string}, {"version", string}, {"extensions", {{"type", "array"}, {"items", string}}}},
                     {"name", "version", "extensions"})},
      {"Error", object_schema({{"error", string}}, {"error"})}};

  Json parameters = {
      {"RequestId",
       {{"name", "X-Request-ID"},
        {"in", "header"},
        {"required", false},
        {"description", "Echoed in the response when it matches the pattern; otherwise the server makes one."},
        {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9._:-]{1,128}$"}}}}},
      {"ModelName",
       {{"name", "name"}, {"in", "path"}, {"required", true}, {"description", "Model name."}, {"schema", name_schema}}},
      {"ModelVersion",
       {{"name", "version"},
        {"in", "path"},
        {"required", true},
        {"description", "A loaded version." + versions_note + "."},
        {"schema", version_schema}}}};
  return Json{{"schemas", std::move(schemas)}, {"parameters", std::move(parameters)}};
}

}  // namespace

std::string openapi_document(const std::vector<ModelDesc>& models, std::string_view server_version) {
  const std::string version(server_version);
  const std::string first_model = models.empty() ? "mlp" : models[0].name;

  Json paths = Json::object();
  for (const ModelDesc& m : models) {
    if (m.serves_predict) {
      paths["/predict"] = predict_path(m);
      break;
    }
  }
  const Json live = Json{{"live", true}}, ready = Json{{"ready", true}}, not_ready = Json{{"ready", false}};
  paths["/v2/health/live"] = simple_get(
      kOip, "server_live", "Liveness", "200 while the process serves requests (the liveness probe).",
      {{"200", {{"description", "Live."}, {"content", json_body(flag_schema("live", false), "example", live)}}}});
  paths["/v2/health/ready"] = simple_get(
      kOip, "server_ready", "Readiness", "200 once every model is loaded; 503 while loading or draining.",
      {{"200", {{"description", "Ready."}, {"content", json_body(flag_schema("ready", false), "example", ready)}}},
       {"503",
        {{"description", "Loading or draining."},
         {"content", json_body(flag_schema("ready", false), "example", not_ready)}}}});
  paths["/v2"] = simple_get(
      kOip, "server_metadata", "Server metadata", "Name, version and protocol extensions.",
      {{"200",
        {{"description", "Server metadata."},
         {"content", json_body(schema_ref("ServerMetadata"), "example",
                               Json{{"name", "torchless"},
                                    {"version", version},
                                    {"extensions", {"binary_tensor_data", "classification"}}})}}}});
  paths.update(model_paths(models, false, first_model));
  paths.update(model_paths(models, true, first_model));
  paths["/metrics"] = simple_get(
      kOps, "metrics", "Prometheus metrics", "Text exposition format 0.0.4.",
      {{"200",
        {{"description", "Metrics."},
         {"content",
          {{"text/plain",
            {{"schema", {{"type", "string"}}},
             {"example", "# TYPE torchless_http_requests_total counter\n"
                         "torchless_http_requests_total{route=\"/predict\",method=\"POST\",code=\"200\"} 1\n"}}}}}}}});
  paths["/openapi.json"] = simple_get(
      kOps, "openapi", "This document", "OpenAPI 3.0.3, rebuilt on each model reload.",
      {{"200", {{"description", "The document."}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}}});
  paths["/docs"] = simple_get(
      kOps, "docs", "This page", "The built-in renderer of /openapi.json (its files are under /docs/assets/).",
      {{"200", {{"description", "HTML page."}, {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}}});

  Json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "torchless"},
        {"version", version},
        {"description",
         "Model server: the FastAPI app's POST /predict and the Open Inference Protocol (KServe v2) REST routes. "
         "Every response carries X-Request-ID. Errors: `{\"detail\": ...}` on /predict, `{\"error\": \"...\"}` "
         "under /v2."}}},
      {"servers", {{{"url", "/"}}}},
      {"tags",
       {{{"name", kFastApi}, {"description", "Same request and success bodies as the FastAPI app."}},
        {{"name", kOip}, {"description", "KServe v2 REST, with the binary tensor data and classification extensions."}},
        {{"name", kOps}, {"description", "Metrics and documentation."}}}},
      {"paths", std::move(paths)},
      {"components", components(models)}};
  return doc.dump();
}

}  // namespace torchless::serve
