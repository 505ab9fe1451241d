// POST /predict, the FastAPI pattern (specs/serving.md 2.2):
//   {"values": [...]}            -> {"prediction": <first output, nested like tensor.tolist()>}
//   multipart, image in "file"   -> {"prediction": "<class name>"}
// Errors keep FastAPI's shapes: {"detail":[{"loc":[...],"msg":...,"type":...}]} for validation
// (422), {"detail":"..."} otherwise.
#include <nlohmann/json.hpp>

#include "serve/app.h"
#include "serve/image.h"
#include "serve/json_writer.h"
#include "serve/multipart.h"
#include "serve/postprocess.h"
#include "serve/tensor_json.h"

namespace torchless::serve {

namespace {

constexpr size_t kMaxDepth = 32;
constexpr size_t kOffloadBytes = 256 << 10;  // larger JSON bodies are parsed on the worker pool

// 422 {"detail":[{"loc":["body",...],"msg":msg,"type":type}]}. `loc` items after "body" are
// member names or indices.
struct Loc {
  std::vector<std::string> names;
  std::vector<int64_t> indices;  // after the names
};

HttpResponse validation_error(const Loc& loc, std::string_view msg, std::string_view type) {
  HttpResponse r;
  r.status = 422;
  JsonWriter w(r.body);
  w.begin_object();
  w.key("detail");
  w.begin_array();
  w.begin_object();
  w.key("loc");
  w.begin_array();
  w.string("body");
  for (const auto& n : loc.names) w.string(n);
  for (int64_t i : loc.indices) w.number(i);
  w.end_array();
  w.key("msg");
  w.string(msg);
  w.key("type");
  w.string(type);
  w.end_object();
  w.end_array();
  w.end_object();
  r.error = std::string(msg);
  r.route = "/predict";
  return r;
}

// The byte offset and message of a JSON syntax error (cold path; nlohmann's SAX parser keeps
// an explicit stack, so deep nesting cannot overflow ours).
struct SyntaxProbe : nlohmann::json_sax<nlohmann::json> {
  std::string message;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) override {
    last_read = pos;  // bytes read, the offending one included
    message = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> the tail
    if (auto colon = message.find(": "); colon != std::string::npos) message = message.substr(colon + 2);
    return false;
  }
  size_t last_read = 0;
};

// Python's offset of a syntax error: the end of the input when it ended early, the start of a
// misspelt literal ("nope" at 11, where nlohmann stops inside it), else the offending byte.
size_t python_error_offset(const std::string& body, const SyntaxProbe& p) {
  if (p.message.find("unexpected end of input") != std::string::npos) return body.size();
  size_t at = std::min(p.last_read > 0 ? p.last_read - 1 : 0, body.size());
  if (p.message.find("invalid literal") != std::string::npos)
    while (at > 0 && (isalnum(static_cast<unsigned char>(body[at - 1])) || body[at - 1] == '.' || body[at - 1] == '+' ||
                      body[at - 1] == '-'))
      --at;
  return at;
}

HttpResponse json_syntax_error(const std::string& body) {
  SyntaxProbe probe;
  nlohmann::json::sax_parse(body, &probe);
  Loc loc;
  loc.indices.push_back(static_cast<int64_t>(python_error_offset(body, probe)));  // loc: ["body", offset]
  return validation_error(loc, probe.message.empty() ? "invalid JSON" : probe.message, "value_error.jsondecode");
}

// Writes the /predict answer for row 0 of the outputs.
HttpResponse predict_response(const ModelRuntime& m, const VersionRuntime& v, JobResult& r) {
  HttpResponse resp;
  resp.route = "/predict";
  JsonWriter w(resp.body);
  w.begin_object();
  w.key("prediction");
  const std::string& kind = m.config.post_kind;
  if (kind == "none") {
    write_tensor_json(w, r.outputs[static_cast<size_t>(m.predict_output)], true, F32Style::kPython);
  } else {
    const int k = kind == "top_k" ? m.config.top_k : 1;
    auto top = top_classes(r.outputs[static_cast<size_t>(m.post_output)], 0, k, m.config.softmax);
    if (top.empty()) {
      w.null();
    } else if (m.labels.empty()) {
      w.number(top[0].index);
    } else {
      w.string(m.labels[static_cast<size_t>(top[0].index)]);
    }
    if (kind == "top_k") {
      w.key("top_k");
      w.begin_array();
      for (const ClassScore& c : top) {
        w.begin_object();
        if (!m.labels.empty()) {
          w.key("label");
          w.string(m.labels[static_cast<size_t>(c.index)]);
        }
        w.key("index");
        w.number(c.index);
        w.key("score");
        w.number_f32(c.score, F32Style::kShortest);
        w.end_object();
      }
      w.end_array();
    }
  }
  w.end_object();
  if (w.nonfinite()) v.m.nonfinite->inc(w.nonfinite());
  return resp;
}

// The tensor shape of one /predict sample: the input's per-row shape with the batch dimension
// of 1 the FastAPI app's unsqueeze(0) adds (an unbatched model's declared leading 1 plays
// that role; without one the declared shape is used as it is).
struct SampleShape {
  std::vector<int64_t> row;     // what `values` must hold
  bool add_batch = true;
};

SampleShape sample_shape(const ModelRuntime& m, const TensorSlot& s) {
  SampleShape out{s.shape, true};
  if (m.max_batch == 0) {
    if (!out.row.empty() && out.row[0] == 1)
      out.row.erase(out.row.begin());
    else
      out.add_batch = false;
  }
  return out;
}

}  // namespace

void App::predict(std::unique_ptr<HttpRequest> req, Responder respond) {
  ModelRuntime& m = *predict_model_;
  VersionRuntime& v = *m.latest();
  const bool multipart = media_type(req->header("content-type")) == "multipart/form-data";
  const Clock::time_point start = req->start;

  // Both kinds end here: a job for the model's queue, answered by predict_response.
  auto submit_tensor = [this, &m, &v, start, closed = req->closed](Tensor input, Responder respond) {
    Submission s;
    s.model = &m;
    s.version = &v;
    s.job = std::make_unique<Job>();
    s.job->inputs.push_back(std::move(input));
    s.job->rows = 1;
    s.job->key = batch_key(s.job->inputs);
    s.job->canceled = closed;
    s.finish = [&m, &v, start](JobResult& r) {
      HttpResponse resp = predict_response(m, v, r);
      const uint64_t us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
      v.m.request_us->inc(us);
      v.m.request_seconds->observe(static_cast<double>(us) * 1e-6);
      return resp;
    };
    submit(std::move(s), std::move(respond));
  };

  if (multipart) {
    // Image mode, on the worker pool: multipart framing, header limits, decode, preprocess.
    offload([this, &m, &v, req = std::shared_ptr<HttpRequest>(std::move(req)), respond = std::move(respond),
             submit_tensor]() mutable {
      auto fail = [&](int status, std::string_view detail) {
        HttpResponse r = detail_error(status, detail);
        r.route = "/predict";
        r.model = m.config.name;
        r.version = v.label;
        v.m.fail_invalid->inc();
        respond(std::move(r));
      };
      auto boundary = multipart_boundary(req->header("content-type"));
      if (!boundary) return fail(400, "There was an error parsing the body");
      auto parts = parse_multipart(req->body, boundary.value());
      if (!parts) {
        if (parts.error().code() == Error::Code::kLimitExceeded) return fail(413, parts.error().message());
        return fail(400, "There was an error parsing the body");
      }
      const MultipartPart* file = form_field(parts.value(), "file");
      if (!file) {
        HttpResponse r = validation_error({{"file"}, {}}, "field required", "value_error.missing");
        v.m.fail_invalid->inc();
        return respond(std::move(r));
      }
      const TensorSlot& slot = m.inputs[static_cast<size_t>(m.image_input)];
      SampleShape ss = sample_shape(m, slot);
      std::vector<int64_t> shape = ss.row;
      if (ss.add_batch) shape.insert(shape.begin(), 1);
      auto tensor = make_tensor(DType::kFloat32, shape);
      if (!tensor) return fail(503, "Service Unavailable");
      const ImagePreprocess p = image_settings(m);
      const Clock::time_point t0 = Clock::now();
      std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(file->data.data()), file->data.size());
      Status s = preprocess_image(bytes, p, reinterpret_cast<float*>(tensor.value().storage().mutable_data()));
      m.preprocess_seconds->observe(std::chrono::duration<double>(Clock::now() - t0).count());
      if (!s) {
        const Error& e = s.error();
        if (e.code() == Error::Code::kCorrupt) m.decode_failures->inc();
        return fail(e.code() == Error::Code::kUnsupported     ? 415
                    : e.code() == Error::Code::kLimitExceeded ? 413
                                                              : 400,
                    e.message());
      }
      if (m.inputs.size() != 1) return fail(422, "the model has more than one input; use /v2/models/" + m.config.name + "/infer");
      submit_tensor(std::move(tensor).value(), std::move(respond));
    });
    return;
  }

  auto parse_json = [this, &m, &v, submit_tensor](std::unique_ptr<HttpRequest> req, Responder respond) {
    auto invalid = [&](HttpResponse r) {
      r.model = m.config.name;
      r.version = v.label;
      v.m.fail_invalid->inc();
      respond(std::move(r));
    };
    const Clock::time_point t0 = Clock::now();
    if (req->body.empty()) return invalid(validation_error({}, "field required", "value_error.missing"));
    simdjson::dom::parser& parser = thread_parser(kMaxDepth);
    simdjson::dom::element doc;
    auto error = parser.parse(req->body.data(), req->body.size(), false).get(doc);
    if (error == simdjson::NUMBER_ERROR) {
      // Integers beyond 64 bits: Python reads them exactly and torch rounds them to the float
      // input; written as "N.0" they are parsed as that same correctly rounded double.
      if (auto wide = widen_big_integers(req->body)) {
        req->body = std::move(*wide);
        req->body.reserve(req->body.size() + simdjson::SIMDJSON_PADDING);
        error = parser.parse(req->body.data(), req->body.size(), false).get(doc);
      }
    }
    if (error == simdjson::DEPTH_ERROR)
      return invalid(validation_error({}, "maximum nesting depth 32 exceeded", "value_error.jsondecode"));
    if (error) return invalid(json_syntax_error(req->body));
    // As pydantic: a null body is a missing one.
    if (doc.type() == simdjson::dom::element_type::NULL_VALUE)
      return invalid(validation_error({}, "field required", "value_error.missing"));
    if (doc.type() != simdjson::dom::element_type::OBJECT)
      return invalid(validation_error({}, "value is not a valid dict", "type_error.dict"));
    // Python's json keeps the last of repeated keys.
    simdjson::dom::element values;
    bool found = false;
    const simdjson::dom::object body = doc.get_object().value_unsafe();  // a copy: not a temporary's
    for (auto field : body)
      if (field.key == "values") {
        values = field.value;
        found = true;
      }
    if (!found) return invalid(validation_error({{"values"}, {}}, "field required", "value_error.missing"));
    if (values.type() == simdjson::dom::element_type::NULL_VALUE)
      return invalid(validation_error({{"values"}, {}}, "none is not an allowed value", "type_error.none.not_allowed"));
    if (values.type() != simdjson::dom::element_type::ARRAY)
      return invalid(validation_error({{"values"}, {}}, "value is not a valid list", "type_error.list"));
    if (m.inputs.size() != 1)
      return invalid(validation_error({{"values"}, {}},
                                      "the model has " + std::to_string(m.inputs.size()) +
                                          " inputs; /predict feeds one (use /v2/models/" + m.config.name + "/infer)",
                                      "value_error.shape"));
    const TensorSlot& slot = m.inputs[0];
    SampleShape ss = sample_shape(m, slot);
    std::vector<int64_t> row = ss.row;
    simdjson::dom::array arr = values.get_array().value_unsafe();
    const bool nested = arr.size() > 0 && arr.at(0).value_unsafe().type() == simdjson::dom::element_type::ARRAY;
    std::vector<int64_t> got = nested ? nested_shape(values) : std::vector<int64_t>{static_cast<int64_t>(arr.size())};
    // Variable dimensions take the sizes sent; the others must match.
    bool match = false;
    if (nested || row.size() == 1) {
      match = got.size() == row.size();
      for (size_t i = 0; match && i < row.size(); ++i) {
        if (row[i] == -1) row[i] = got[i];
        match = row[i] == got[i] && got[i] > 0;
      }
    } else {
      int64_t numel = 1;
      bool known = true;
      for (int64_t d : row) {
        known &= d >= 0;
        numel *= d;
      }
      match = known && got[0] == numel && numel > 0;
    }
    if (!match) {
      std::vector<int64_t> want = ss.row;
      return invalid(validation_error({{"values"}, {}}, "expected shape " + shape_string(want) + ", got " + shape_string(got),
                                      "value_error.shape"));
    }
    uint64_t numel = 1;
    for (int64_t d : row) numel *= static_cast<uint64_t>(d);
    if (numel > max_tensor_elements()) {
      HttpResponse r = detail_error(413, "tensor of " + std::to_string(numel) + " elements exceeds the limit of " +
                                             std::to_string(max_tensor_elements()));
      r.route = "/predict";
      return invalid(std::move(r));
    }
    std::vector<int64_t> shape = row;
    if (ss.add_batch) shape.insert(shape.begin(), 1);
    auto tensor = make_tensor(slot.dtype, shape);
    if (!tensor) return invalid(detail_error(503, "Service Unavailable"));
    JsonTensorError err;
    if (!fill_tensor(arr, slot.dtype, row, tensor.value().storage().mutable_data(), err)) {
      if (err.kind == JsonTensorError::kShape)
        return invalid(validation_error({{"values"}, {}},
                                        "expected shape " + shape_string(ss.row) + ", got a ragged or different nesting",
                                        "value_error.shape"));
      const char* type = err.kind == JsonTensorError::kNotInteger ? "type_error.integer"
                         : err.kind == JsonTensorError::kNotBool  ? "type_error.bool"
                                                                  : "type_error.number";
      return invalid(validation_error({{"values"}, err.path}, err.message, type));
    }
    v.m.input_us->inc(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    submit_tensor(std::move(tensor).value(), std::move(respond));
  };

  if (req->body.size() > kOffloadBytes) {
    offload([parse_json, req = std::shared_ptr<HttpRequest>(std::move(req)), respond = std::move(respond)]() mutable {
      parse_json(std::make_unique<HttpRequest>(std::move(*req)), std::move(respond));
    });
    return;
  }
  parse_json(std::move(req), std::move(respond));
}

}  // namespace torchless::serve
