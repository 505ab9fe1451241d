// POST /v2/models/{name}[/versions/{v}]/infer — the Open Inference Protocol over REST with
// the binary tensor data and classification extensions (specs/serving.md 2.3).
//
// Request validation happens here, before admission: names, datatypes (no implicit
// conversion), shapes against the model's, element counts against the request limit, the
// binary framing (Inference-Header-Content-Length and each binary_data_size). Binary inputs
// are views into the request body when aligned. The response is serialised on the worker
// that ran the batch: JSON, or JSON + raw blobs when binary outputs are asked for.
#include <charconv>
#include <cstring>

#include "serve/app.h"
#include "serve/datatype.h"
#include "serve/image.h"
#include "serve/json_writer.h"
#include "serve/postprocess.h"
#include "serve/tensor_json.h"

namespace torchless::serve {

namespace {

constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxTensors = 64;            // inputs per request, outputs requested
constexpr size_t kOffloadBytes = 256 << 10;   // larger bodies are parsed on the worker pool

using simdjson::dom::element;
using simdjson::dom::element_type;

// A client mistake: the status and the one-line message of {"error": ...}.
struct Refusal {
  int status = 400;
  std::string message;
};

// Standard base64, padding optional; false on any other character.
bool base64_decode(std::string_view in, std::string& out) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = static_cast<int8_t>(i);
    return t;
  }();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

// One requested output.
struct OutputRequest {
  int index = 0;
  bool binary = false;
  int classification = 0;  // k, or 0
};

// Everything parsed from an infer request.
struct ParsedRequest {
  std::string id;
  bool has_id = false;
  std::vector<Tensor> inputs;                // model order
  std::vector<std::string> images;           // decoded raw image files, when the raw input is used
  int64_t rows = 1;
  std::vector<OutputRequest> outputs;
  uint64_t timeout_us = 0;
};

// The array of an element known to be one (a copy: range-for over value_unsafe() of a
// temporary result would dangle).
simdjson::dom::array as_array(element e) { return e.get_array().value_unsafe(); }

std::optional<Refusal> refuse(int status, std::string message) { return Refusal{status, std::move(message)}; }

// Reads an optional bool / unsigned parameter of a "parameters" object.
std::optional<Refusal> bool_param(element params, const char* key, bool& out) {
  element e;
  if (params.get_object().value_unsafe()[key].get(e)) return std::nullopt;
  if (e.type() != element_type::BOOL) return refuse(400, std::string("parameter ") + key + " must be a boolean");
  out = e.get_bool().value_unsafe();
  return std::nullopt;
}

std::optional<Refusal> uint_param(element params, const char* key, uint64_t& out, bool& present) {
  element e;
  present = false;
  if (params.get_object().value_unsafe()[key].get(e)) return std::nullopt;
  if (e.type() == element_type::INT64 && e.get_int64().value_unsafe() >= 0)
    out = static_cast<uint64_t>(e.get_int64().value_unsafe());
  else if (e.type() == element_type::UINT64)
    out = e.get_uint64().value_unsafe();
  else
    return refuse(400, std::string("parameter ") + key + " must be a non-negative integer");
  present = true;
  return std::nullopt;
}

class InferParser {
 public:
  InferParser(const ModelRuntime& m, uint64_t max_elements, const HttpRequest& req)
      : m_(m), max_elements_(max_elements), req_(req) {}

  std::optional<Refusal> parse(ParsedRequest& out, const std::shared_ptr<const HttpRequest>& keepalive);

 private:
  std::optional<Refusal> parse_input(element in, ParsedRequest& out);
  std::optional<Refusal> take_binary(const std::string& name, uint64_t size, std::string_view& bytes);

  const ModelRuntime& m_;
  const uint64_t max_elements_;
  const HttpRequest& req_;
  std::shared_ptr<const HttpRequest> keepalive_;
  std::string widened_;   // the JSON with big integer literals rewritten, when needed
  size_t header_len_ = 0;
  size_t binary_at_ = 0;  // next unread byte of the binary section
  uint64_t elements_ = 0;
  std::vector<bool> seen_;
  bool raw_seen_ = false;
  int64_t batch_ = -1;
};

std::optional<Refusal> InferParser::take_binary(const std::string& name, uint64_t size, std::string_view& bytes) {
  const size_t avail = req_.body.size() - binary_at_;
  if (size > avail)
    return refuse(400, "input " + name + ": binary_data_size " + std::to_string(size) + " runs past the end of the body");
  bytes = std::string_view(req_.body).substr(binary_at_, size);
  binary_at_ += size;
  return std::nullopt;
}

std::optional<Refusal> InferParser::parse_input(element in, ParsedRequest& out) {
  if (in.type() != element_type::OBJECT) return refuse(400, "each input must be an object");
  auto obj = in.get_object().value_unsafe();
  std::string_view name, datatype;
  element shape_e, data_e, params_e;
  if (obj["name"].get(name)) return refuse(400, "an input has no \"name\" string");
  const std::string sname(name);
  if (obj["datatype"].get(datatype)) return refuse(400, "input " + sname + " has no \"datatype\" string");
  if (obj["shape"].get(shape_e) || shape_e.type() != element_type::ARRAY)
    return refuse(400, "input " + sname + " has no \"shape\" array");
  std::vector<int64_t> shape;
  for (element d : as_array(shape_e)) {
    int64_t v;
    if (d.get(v) || v < 0) return refuse(400, "input " + sname + ": shape must hold non-negative integers");
    if (v > (int64_t{1} << 40)) return refuse(413, "input " + sname + ": dimension " + std::to_string(v) + " is too large");
    shape.push_back(v);
  }
  const bool has_data = !obj["data"].get(data_e);
  uint64_t binary_size = 0;
  bool has_binary = false;
  if (!obj["parameters"].get(params_e)) {
    if (params_e.type() != element_type::OBJECT) return refuse(400, "input " + sname + ": parameters must be an object");
    if (auto r = uint_param(params_e, "binary_data_size", binary_size, has_binary)) return r;
  }
  if (has_data == has_binary)
    return refuse(400, "input " + sname + (has_data ? " has both data and binary_data_size" : " has neither data nor binary_data_size"));

  // The raw image input (BYTES, one encoded file per element).
  const bool raw = m_.image_input >= 0 && sname == m_.config.raw_input;
  int index = -1;
  if (!raw) {
    for (size_t i = 0; i < m_.inputs.size(); ++i)
      if (m_.inputs[i].name == sname) index = static_cast<int>(i);
    if (index < 0) return refuse(400, "unknown input '" + escape(sname, 64) + "'");
    if (seen_[static_cast<size_t>(index)]) return refuse(400, "input " + sname + " appears twice");
    seen_[static_cast<size_t>(index)] = true;
  } else {
    if (raw_seen_) return refuse(400, "input " + sname + " appears twice");
    raw_seen_ = true;
  }
  // Rank, fixed dimensions, batch.
  std::vector<int64_t> want;
  if (raw) {
    want = {-1};
    if (datatype != "BYTES") return refuse(400, "input " + sname + " has datatype BYTES, not " + std::string(datatype));
  } else {
    const TensorSlot& s = m_.inputs[static_cast<size_t>(index)];
    want = s.shape;
    if (m_.max_batch > 0) want.insert(want.begin(), -1);
    if (datatype != oip_datatype(s.dtype))
      return refuse(400, "input " + sname + " has datatype " + oip_datatype(s.dtype) + ", not " + escape(datatype, 16));
  }
  if (shape.size() != want.size())
    return refuse(400, "input " + sname + ": expected shape " + shape_string(want) + ", got " + shape_string(shape));
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i] != -1 && want[i] != shape[i])
      return refuse(400, "input " + sname + ": expected shape " + shape_string(want) + ", got " + shape_string(shape));
  if (m_.max_batch > 0 || raw) {
    if (batch_ >= 0 && shape[0] != batch_) return refuse(400, "inputs disagree on the batch size");
    batch_ = shape[0];
    if (m_.max_batch > 0 && shape[0] > m_.max_batch)
      return refuse(400, "batch of " + std::to_string(shape[0]) + " exceeds max_batch_size " + std::to_string(m_.max_batch));
    if (shape[0] == 0) return refuse(400, "input " + sname + ": the batch is empty");
  }
  uint64_t numel = 1;
  for (int64_t d : shape) {
    numel *= static_cast<uint64_t>(d);
    if (numel > max_elements_) break;
  }
  elements_ += numel;
  if (numel > max_elements_ || elements_ > max_elements_)
    return refuse(413, "the request's tensors have more than " + std::to_string(max_elements_) + " elements");

  if (raw) {
    // BYTES: JSON strings (base64), or binary with 4-byte little-endian length prefixes.
    out.images.clear();
    if (has_data) {
      if (data_e.type() != element_type::ARRAY) return refuse(400, "input " + sname + ": data must be an array");
      for (element e : as_array(data_e)) {
        std::string_view b64;
        if (e.get(b64)) return refuse(400, "input " + sname + ": BYTES elements must be base64 strings");
        std::string file;
        if (!base64_decode(b64, file)) return refuse(400, "input " + sname + ": an element is not valid base64");
        out.images.push_back(std::move(file));
      }
    } else {
      std::string_view blob;
      if (auto r = take_binary(sname, binary_size, blob)) return r;
      while (!blob.empty()) {
        if (blob.size() < 4) return refuse(400, "input " + sname + ": a BYTES length prefix is cut off");
        uint32_t len;
        std::memcpy(&len, blob.data(), 4);
        blob.remove_prefix(4);
        if (len > blob.size()) return refuse(400, "input " + sname + ": a BYTES element runs past its binary_data_size");
        out.images.emplace_back(blob.substr(0, len));
        blob.remove_prefix(len);
      }
    }
    if (out.images.size() != static_cast<size_t>(shape[0]))
      return refuse(400, "input " + sname + ": shape says " + std::to_string(shape[0]) + " elements, data has " +
                             std::to_string(out.images.size()));
    return std::nullopt;
  }

  const TensorSlot& s = m_.inputs[static_cast<size_t>(index)];
  Tensor t;
  if (has_binary) {
    const uint64_t want_bytes = numel * dtype_size(s.dtype);
    if (binary_size != want_bytes)
      return refuse(400, "input " + sname + ": binary_data_size is " + std::to_string(binary_size) + ", expected " +
                             std::to_string(want_bytes) + " for shape " + shape_string(shape));
    std::string_view bytes;
    if (auto r = take_binary(sname, binary_size, bytes)) return r;
    if (reinterpret_cast<uintptr_t>(bytes.data()) % dtype_alignment(s.dtype) == 0) {
      // A view into the body; the request stays alive as long as the tensor.
      Storage st = Storage::wrap(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), keepalive_);
      auto r = Tensor::contiguous_over(std::move(st), s.dtype, shape);
      if (!r) return refuse(400, "input " + sname + ": " + r.error().message());
      t = std::move(r).value();
    } else {
      auto r = make_tensor(s.dtype, shape);
      if (!r) return refuse(503, "out of memory");
      t = std::move(r).value();
      if (!bytes.empty()) std::memcpy(t.storage().mutable_data(), bytes.data(), bytes.size());
    }
  } else {
    if (data_e.type() != element_type::ARRAY) return refuse(400, "input " + sname + ": data must be an array");
    auto r = make_tensor(s.dtype, shape);
    if (!r) return refuse(503, "out of memory");
    t = std::move(r).value();
    JsonTensorError err;
    if (numel > 0 && !fill_tensor(as_array(data_e), s.dtype, shape, t.storage().mutable_data(), err)) {
      if (err.kind == JsonTensorError::kShape)
        return refuse(400, "input " + sname + ": data does not hold " + std::to_string(numel) +
                               " elements laid out flat or nested as " + shape_string(shape));
      return refuse(400, "input " + sname + ": " + err.message + " for datatype " + std::string(datatype));
    }
  }
  out.inputs[static_cast<size_t>(index)] = std::move(t);
  return std::nullopt;
}

std::optional<Refusal> InferParser::parse(ParsedRequest& out, const std::shared_ptr<const HttpRequest>& keepalive) {
  keepalive_ = keepalive;
  const std::string& body = req_.body;
  header_len_ = body.size();
  if (std::string_view h = req_.header("inference-header-content-length"); !h.empty()) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), n);
    if (ec != std::errc() || p != h.data() + h.size() || n > body.size())
      return refuse(400, "Inference-Header-Content-Length must be an integer no larger than the body");
    header_len_ = static_cast<size_t>(n);
  }
  binary_at_ = header_len_;
  if (header_len_ == 0) return refuse(400, "the request body is empty");
  simdjson::dom::parser& parser = thread_parser(kMaxDepth);
  element doc;
  // The body's capacity includes simdjson's padding beyond any prefix of it.
  auto error = parser.parse(body.data(), header_len_, false).get(doc);
  if (error == simdjson::NUMBER_ERROR && header_len_ == body.size()) {
    // Integer literals beyond 64 bits (any JSON number is valid for FP inputs): as floats.
    if (auto wide = widen_big_integers(body)) {
      widened_ = std::move(*wide);
      widened_.reserve(widened_.size() + simdjson::SIMDJSON_PADDING);
      error = parser.parse(widened_.data(), widened_.size(), false).get(doc);
    }
  }
  if (error) {
    if (error == simdjson::DEPTH_ERROR) return refuse(400, "JSON nesting deeper than 32");
    return refuse(400, std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  if (doc.type() != element_type::OBJECT) return refuse(400, "the request must be a JSON object");
  auto obj = doc.get_object().value_unsafe();

  element e;
  if (!obj["id"].get(e)) {
    std::string_view id;
    if (e.get(id) || id.size() > 256) return refuse(400, "id must be a string of at most 256 bytes");
    out.id = std::string(id);
    out.has_id = true;
  }
  bool binary_output = false;
  if (!obj["parameters"].get(e)) {
    if (e.type() != element_type::OBJECT) return refuse(400, "parameters must be an object");
    if (auto r = bool_param(e, "binary_data_output", binary_output)) return r;
    bool present = false;
    if (auto r = uint_param(e, "timeout", out.timeout_us, present)) return r;
  }
  element inputs;
  if (obj["inputs"].get(inputs) || inputs.type() != element_type::ARRAY || as_array(inputs).size() == 0)
    return refuse(400, "inputs must be a non-empty array");
  if (as_array(inputs).size() > kMaxTensors) return refuse(400, "more than 64 inputs");
  out.inputs.assign(m_.inputs.size(), Tensor());
  seen_.assign(m_.inputs.size(), false);
  for (element in : as_array(inputs))
    if (auto r = parse_input(in, out)) return r;
  if (binary_at_ != body.size())
    return refuse(400, "the binary data sizes add up to " + std::to_string(binary_at_ - header_len_) + " bytes, the body has " +
                           std::to_string(body.size() - header_len_) + " after the JSON header");
  // Every input exactly once; the image input either raw or as a tensor, never both.
  for (size_t i = 0; i < m_.inputs.size(); ++i) {
    const bool is_image = static_cast<int>(i) == m_.image_input;
    if (is_image && raw_seen_ && seen_[i])
      return refuse(400, "send either " + m_.config.raw_input + " or " + m_.inputs[i].name + ", not both");
    if (!seen_[i] && !(is_image && raw_seen_)) return refuse(400, "missing input '" + m_.inputs[i].name + "'");
  }
  out.rows = m_.max_batch > 0 || raw_seen_ ? std::max<int64_t>(batch_, 1) : 1;

  // Outputs: all in model order unless selected.
  element outputs;
  if (!obj["outputs"].get(outputs)) {
    if (outputs.type() != element_type::ARRAY) return refuse(400, "outputs must be an array");
    if (as_array(outputs).size() > kMaxTensors) return refuse(400, "more than 64 outputs requested");
    std::vector<bool> picked(m_.outputs.size(), false);
    for (element o : as_array(outputs)) {
      std::string_view name;
      if (o.type() != element_type::OBJECT || o.get_object().value_unsafe()["name"].get(name))
        return refuse(400, "each requested output needs a \"name\"");
      OutputRequest r;
      r.index = -1;
      for (size_t i = 0; i < m_.outputs.size(); ++i)
        if (m_.outputs[i].name == name) r.index = static_cast<int>(i);
      if (r.index < 0) return refuse(400, "unknown output '" + escape(name, 64) + "'");
      if (picked[static_cast<size_t>(r.index)]) return refuse(400, "output " + std::string(name) + " is requested twice");
      picked[static_cast<size_t>(r.index)] = true;
      r.binary = binary_output;
      element params;
      if (!o.get_object().value_unsafe()["parameters"].get(params)) {
        if (params.type() != element_type::OBJECT) return refuse(400, "output parameters must be an object");
        if (auto x = bool_param(params, "binary_data", r.binary)) return x;
        uint64_t k = 0;
        bool present = false;
        if (auto x = uint_param(params, "classification", k, present)) return x;
        if (present) {
          if (k < 1 || k > 1000) return refuse(400, "classification must be in 1..1000");
          r.classification = static_cast<int>(k);
        }
      }
      out.outputs.push_back(r);
    }
  }
  if (out.outputs.empty())
    for (size_t i = 0; i < m_.outputs.size(); ++i) out.outputs.push_back({static_cast<int>(i), binary_output, 0});
  return std::nullopt;
}

// "parameters":{"binary_data_size":n} of an output sent raw after the JSON.
void binary_size(JsonWriter& w, size_t n) {
  w.key("parameters");
  w.begin_object();
  w.key("binary_data_size");
  w.number(static_cast<uint64_t>(n));
  w.end_object();
}

// The response: JSON, or JSON followed by the binary outputs.
HttpResponse infer_response(const ModelRuntime& m, const VersionRuntime& v, const ParsedRequest& p, JobResult& r) {
  HttpResponse resp;
  std::string json;
  std::string blobs;
  JsonWriter w(json);
  w.begin_object();
  w.key("model_name");
  w.string(m.config.name);
  w.key("model_version");
  w.string(v.label);
  if (p.has_id) {
    w.key("id");
    w.string(p.id);
  }
  w.key("outputs");
  w.begin_array();
  for (const OutputRequest& o : p.outputs) {
    const Tensor& t = r.outputs[static_cast<size_t>(o.index)];
    w.begin_object();
    w.key("name");
    w.string(m.outputs[static_cast<size_t>(o.index)].name);
    w.key("datatype");
    std::vector<int64_t> shape = t.shape();
    if (o.classification) {
      // Triton's classification strings: "<score>:<index>[:<label>]", shape [rows, k].
      const int64_t rows = t.ndim() == 0 ? 1 : t.shape()[0];
      std::vector<std::string> items;
      for (int64_t row = 0; row < rows; ++row)
        for (const ClassScore& c : top_classes(t, row, o.classification, false)) {
          char score[64];
          snprintf(score, sizeof score, "%f", static_cast<double>(c.score));
          std::string s = std::string(score) + ":" + std::to_string(c.index);
          if (!m.labels.empty() && static_cast<size_t>(c.index) < m.labels.size()) s += ":" + m.labels[static_cast<size_t>(c.index)];
          items.push_back(std::move(s));
        }
      w.string("BYTES");
      w.key("shape");
      w.begin_array();
      w.number(rows);
      w.number(static_cast<int64_t>(items.size()) / std::max<int64_t>(rows, 1));
      w.end_array();
      if (o.binary) {
        const size_t before = blobs.size();
        for (const std::string& s : items) {
          uint32_t len = static_cast<uint32_t>(s.size());
          blobs.append(reinterpret_cast<const char*>(&len), 4);
          blobs += s;
        }
        binary_size(w, blobs.size() - before);
      } else {
        w.key("data");
        w.begin_array();
        for (const std::string& s : items) w.string(s);
        w.end_array();
      }
    } else {
      w.string(oip_datatype(t.dtype()) ? oip_datatype(t.dtype()) : "BYTES");
      w.key("shape");
      w.begin_array();
      for (int64_t d : shape) w.number(d);
      w.end_array();
      if (o.binary) {
        const size_t before = blobs.size();
        t.for_each_chunk([&blobs](const std::byte* ptr, size_t n) { blobs.append(reinterpret_cast<const char*>(ptr), n); });
        binary_size(w, blobs.size() - before);
      } else {
        w.key("data");
        write_tensor_json(w, t, false, F32Style::kShortest);
      }
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  if (w.nonfinite()) v.m.nonfinite->inc(w.nonfinite());
  if (blobs.empty() && std::none_of(p.outputs.begin(), p.outputs.end(), [](const OutputRequest& o) { return o.binary; })) {
    resp.body = std::move(json);
  } else {
    resp.content_type = "application/octet-stream";
    resp.headers.emplace_back("Inference-Header-Content-Length", std::to_string(json.size()));
    resp.body = std::move(json);
    resp.body += blobs;
  }
  return resp;
}

}  // namespace

void App::v2_infer(std::unique_ptr<HttpRequest> req_in, ModelRuntime& m, VersionRuntime& v, Responder respond) {
  // Images and large bodies are parsed on the worker pool, never on an I/O thread.
  const bool heavy = req_in->body.size() > kOffloadBytes || m.image_input >= 0;
  const char* route = req_in->path.find("/versions/") != std::string::npos ? "/v2/models/{name}/versions/{version}/infer"
                                                                             : "/v2/models/{name}/infer";
  auto work = [this, &m, &v, route, req = std::shared_ptr<HttpRequest>(std::move(req_in)),
               respond = std::move(respond)]() mutable {
    const Clock::time_point t0 = Clock::now();
    auto fail = [&](const Refusal& r) {
      HttpResponse resp = oip_error(r.status, r.message);
      resp.route = route;
      resp.model = m.config.name;
      resp.version = v.label;
      v.m.fail_invalid->inc();
      respond(std::move(resp));
    };
    auto parsed = std::make_shared<ParsedRequest>();
    InferParser parser(m, max_tensor_elements(), *req);
    if (auto r = parser.parse(*parsed, req)) return fail(*r);
    if (!parsed->images.empty()) {
      // Raw images into rows of the image input (on this pool thread, or moved to it).
      const TensorSlot& slot = m.inputs[static_cast<size_t>(m.image_input)];
      std::vector<int64_t> shape = slot.shape;
      if (m.max_batch > 0) shape.insert(shape.begin(), static_cast<int64_t>(parsed->images.size()));
      else if (parsed->images.size() != 1) return fail({400, "this model takes one image per request"});
      auto tensor = make_tensor(DType::kFloat32, shape);
      if (!tensor) return fail({503, "out of memory"});
      const ImagePreprocess p = image_settings(m);
      const size_t per = image_tensor_elements(p);
      float* dst = reinterpret_cast<float*>(tensor.value().storage().mutable_data());
      for (size_t i = 0; i < parsed->images.size(); ++i) {
        const std::string& f = parsed->images[i];
        const Clock::time_point ti = Clock::now();
        Status s = preprocess_image({reinterpret_cast<const std::byte*>(f.data()), f.size()}, p, dst + i * per);
        m.preprocess_seconds->observe(std::chrono::duration<double>(Clock::now() - ti).count());
        if (!s) {
          if (s.error().code() == Error::Code::kCorrupt) m.decode_failures->inc();
          const int status = s.error().code() == Error::Code::kUnsupported     ? 415
                             : s.error().code() == Error::Code::kLimitExceeded ? 413
                                                                              : 400;
          return fail({status, "image " + std::to_string(i) + ": " + s.error().message()});
        }
      }
      parsed->inputs[static_cast<size_t>(m.image_input)] = std::move(tensor).value();
      parsed->images.clear();
    }
    v.m.input_us->inc(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    Submission s;
    s.model = &m;
    s.version = &v;
    s.oip = true;
    s.job = std::make_unique<Job>();
    s.job->inputs = std::move(parsed->inputs);
    s.job->rows = parsed->rows;
    s.job->key = batch_key(s.job->inputs);
    s.job->canceled = req->closed;
    if (parsed->timeout_us > 0) s.job->deadline = Clock::now() + std::chrono::microseconds(parsed->timeout_us);
    const Clock::time_point start = req->start;
    s.finish = [&m, &v, parsed, start, route](JobResult& r) {
      HttpResponse resp = infer_response(m, v, *parsed, r);
      resp.route = route;
      const uint64_t us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
      v.m.request_us->inc(us);
      v.m.request_seconds->observe(static_cast<double>(us) * 1e-6);
      return resp;
    };
    submit(std::move(s), [respond, route](HttpResponse&& r) mutable {
      if (r.route.empty()) r.route = route;
      respond(std::move(r));
    });
  };
  if (heavy)
    offload(std::move(work));
  else
    work();
}

}  // namespace torchless::serve
