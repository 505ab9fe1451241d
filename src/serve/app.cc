// Routing, model loading, the operational routes, metrics and the access log.
#include "serve/app.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>

#include "serve/datatype.h"
#include "serve/docs_assets.h"
#include "serve/json_writer.h"
#include "serve/openapi.h"

namespace torchless::serve {

namespace {

uint64_t micros_since(Clock::time_point t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// {"name":"mlp","ready":true} (200) or ...false (503).
HttpResponse model_ready_response(std::string_view name, bool ready) {
  HttpResponse r = json_response(ready ? 200 : 503, "");
  JsonWriter w(r.body);
  w.begin_object();
  w.key("name");
  w.string(name);
  w.key("ready");
  w.boolean(ready);
  w.end_object();
  return r;
}

bool is_probe(std::string_view route) {
  return route == "/v2/health/live" || route == "/v2/health/ready" || route == "/metrics";
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t at = 1;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return parts;
}

// A parsed /v2/models/... path.
struct ModelPath {
  std::string_view name, version, action;  // action: "", "ready", "infer"
  bool ok = false;
};

ModelPath parse_model_path(std::string_view path) {
  ModelPath p;
  auto parts = split_path(path);
  if (parts.size() < 3 || parts[0] != "v2" || parts[1] != "models" || parts[2].empty()) return p;
  p.name = parts[2];
  size_t at = 3;
  if (parts.size() >= 5 && parts[3] == "versions") {
    p.version = parts[4];
    at = 5;
  }
  if (at == parts.size()) {
    p.ok = true;
  } else if (at + 1 == parts.size() && (parts[at] == "ready" || parts[at] == "infer")) {
    p.action = parts[at];
    p.ok = true;
  }
  return p;
}

const char* route_template(const ModelPath& p) {
  if (p.action == "infer") return p.version.empty() ? "/v2/models/{name}/infer" : "/v2/models/{name}/versions/{version}/infer";
  if (p.action == "ready") return p.version.empty() ? "/v2/models/{name}/ready" : "/v2/models/{name}/versions/{version}/ready";
  return p.version.empty() ? "/v2/models/{name}" : "/v2/models/{name}/versions/{version}";
}

}  // namespace

std::string media_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

VersionRuntime* ModelRuntime::version(std::string_view label) const {
  for (const auto& v : versions)
    if (v->label == label) return v.get();
  return nullptr;
}

namespace {

// {"<key>":"<message>"} (one line, at most 512 bytes of message), with Retry-After on 429/503.
HttpResponse error_response(int status, std::string_view key, std::string_view message) {
  HttpResponse r;
  r.status = status;
  const std::string_view m = message.substr(0, 512);
  JsonWriter w(r.body);
  w.begin_object();
  w.key(key);
  w.string(m);
  w.end_object();
  r.error = std::string(m);
  if (status == 429 || status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

HttpResponse App::detail_error(int status, std::string_view detail) { return error_response(status, "detail", detail); }

HttpResponse App::oip_error(int status, std::string_view message) { return error_response(status, "error", message); }

App::App(const ServeOptions& options)
    : options_(options),
      scheduler_(options.threads),
      pool_(static_cast<size_t>(std::max(1, options.threads))),
      log_(options.access_log == "off"    ? AccessLog::Format::kOff
           : options.access_log == "text" ? AccessLog::Format::kText
                                          : AccessLog::Format::kJson) {
  http_requests_ = &registry_.counter("torchless_http_requests_total", "HTTP requests answered, by route, method and status code.",
                                      {"route", "method", "code"});
  http_seconds_ = &registry_.histogram("torchless_http_request_duration_seconds",
                                       "Time from the end of the request header to the response, in seconds.", {"route"},
                                       latency_buckets());
  connections_active_ = &registry_.gauge("torchless_http_connections_active", "Open HTTP connections.").with({});
  connections_total_ = &registry_.counter("torchless_http_connections_total", "HTTP connections accepted.").with({});
  connections_rejected_ = &registry_.counter("torchless_http_connections_rejected_total",
                                             "HTTP connections refused with 503, by reason.", {"reason"})
                               .with({"limit"});
  timeouts_ = &registry_.counter("torchless_http_timeouts_total", "Connections closed by a deadline, by phase.", {"phase"});
  for (const char* phase : {"header", "body", "idle", "write"}) timeouts_->with({phase});
  log_dropped_ = &registry_.counter("torchless_log_dropped_total", "Access log lines dropped (queue full).").with({});
  registry_.gauge("torchless_build_info", "Build information (value 1).", {"version", "backends"})
      .with({TORCHLESS_VERSION, "onnx"})
      .set(1);
}

App::~App() {
  scheduler_.stop();
  pool_.join();
}

void App::drain() {
  draining_.store(true);
  ready_.store(false);
  scheduler_.drain();
}

ModelRuntime* App::find_model(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

ImagePreprocess App::image_settings(const ModelRuntime& m) const {
  ImagePreprocess p = m.config.image_preprocess;
  p.max_pixels = options_.max_image_pixels;
  p.max_side = options_.max_image_side;
  return p;
}

// ---- routing ---------------------------------------------------------------------------

std::optional<HttpResponse> App::precheck(const HttpRequest& head, uint64_t& body_limit) {
  body_limit = options_.max_body_bytes;
  const bool v2 = head.path == "/v2" || head.path.starts_with("/v2/");
  std::string_view encoding = head.header("content-encoding");
  if (head.path == "/predict") {
    if (head.method != "POST") {
      HttpResponse r = detail_error(405, "Method Not Allowed");
      r.headers.emplace_back("Allow", "POST");
      r.route = "/predict";
      return r;
    }
    auto refuse = [](int status, std::string_view detail) {
      HttpResponse r = detail_error(status, detail);
      r.route = "/predict";
      return r;
    };
    if (!predict_model_) return refuse(404, "Not Found");
    if (!encoding.empty() && encoding != "identity")
      return refuse(415, "Unsupported Media Type: compressed request bodies are not accepted");
    const std::string type = media_type(head.header("content-type"));
    if (type == "multipart/form-data") {
      if (predict_model_->image_input < 0)
        return refuse(415, "model '" + predict_model_->config.name + "' does not accept images");
      body_limit = options_.max_multipart_bytes;
      return std::nullopt;
    }
    if (type != "application/json")
      return refuse(415, "Unsupported Media Type: expected application/json or multipart/form-data");
    return std::nullopt;
  }
  if (v2) {
    ModelPath p = parse_model_path(head.path);
    if (p.ok && p.action == "infer") {
      const char* route = route_template(p);
      auto refuse = [route](int status, std::string_view msg) {
        HttpResponse r = oip_error(status, msg);
        r.route = route;
        return r;
      };
      if (head.method != "POST") {
        HttpResponse r = refuse(405, "Method Not Allowed");
        r.headers.emplace_back("Allow", "POST");
        return r;
      }
      ModelRuntime* m = find_model(p.name);
      if (!m) return refuse(404, "unknown model '" + escape(p.name, 64) + "'");
      if (!p.version.empty() && !m->version(p.version))
        return refuse(404, "unknown version '" + escape(p.version, 32) + "' of model '" + m->config.name + "'");
      if (!encoding.empty() && encoding != "identity")
        return refuse(415, "compressed request bodies are not accepted");
      if (head.header("inference-header-content-length").empty() && media_type(head.header("content-type")) != "application/json")
        return refuse(415, "expected Content-Type application/json (or the binary tensor extension)");
      return std::nullopt;
    }
  }
  return std::nullopt;  // GET routes and unknown paths are answered by handle()
}

void App::handle(std::unique_ptr<HttpRequest> req, Responder respond) {
  if (req->path == "/predict") return predict(std::move(req), std::move(respond));
  if (req->method == "POST" && req->path.starts_with("/v2/models/")) {
    ModelPath p = parse_model_path(req->path);
    if (p.ok && p.action == "infer") {
      ModelRuntime* m = find_model(p.name);
      VersionRuntime* v = m ? (p.version.empty() ? m->latest() : m->version(p.version)) : nullptr;
      if (m && v) return v2_infer(std::move(req), *m, *v, std::move(respond));
    }
  }
  respond(route_get(*req));
}

HttpResponse App::route_get(const HttpRequest& req) {
  const std::string& path = req.path;
  const bool v2 = path == "/v2" || path.starts_with("/v2/");
  const bool get = req.method == "GET" || req.method == "HEAD";
  auto method_not_allowed = [&](const char* route) {
    HttpResponse r = v2 ? oip_error(405, "Method Not Allowed") : detail_error(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", "GET");
    r.route = route;
    return r;
  };
  HttpResponse r;
  if (path == "/v2/health/live") {
    if (!get) return method_not_allowed("/v2/health/live");
    r = json_response(200, "{\"live\":true}");
    r.route = "/v2/health/live";
    return r;
  }
  if (path == "/v2/health/ready") {
    if (!get) return method_not_allowed("/v2/health/ready");
    r = ready() ? json_response(200, "{\"ready\":true}") : json_response(503, "{\"ready\":false}");
    r.route = "/v2/health/ready";
    return r;
  }
  if (path == "/v2") {
    if (!get) return method_not_allowed("/v2");
    r = json_response(200, "{\"name\":\"torchless\",\"version\":\"" TORCHLESS_VERSION
                           "\",\"extensions\":[\"binary_tensor_data\",\"classification\"]}");
    r.route = "/v2";
    return r;
  }
  if (path.starts_with("/v2/models/")) {
    ModelPath p = parse_model_path(path);
    if (p.ok) {
      const char* route = route_template(p);
      if (p.action == "infer") return method_not_allowed(route);  // POST was handled before
      if (!get) return method_not_allowed(route);
      ModelRuntime* m = find_model(p.name);
      if (!m && p.action == "ready" && std::find(failed_.begin(), failed_.end(), p.name) != failed_.end()) {
        r = model_ready_response(p.name, false);  // a model that failed to load
      } else if (!m) {
        r = oip_error(404, "unknown model '" + escape(p.name, 64) + "'");
      } else if (!p.version.empty() && !m->version(p.version)) {
        r = oip_error(404, "unknown version '" + escape(p.version, 32) + "' of model '" + m->config.name + "'");
      } else {
        VersionRuntime* v = p.version.empty() ? m->latest() : m->version(p.version);
        if (p.action == "ready") {
          r = model_ready_response(m->config.name, v && v->ready.load() && !draining_.load());
        } else {
          r = v2_model_metadata(*m, p.version.empty() ? nullptr : v);
        }
      }
      r.route = route;
      return r;
    }
  }
  if (path == "/metrics") {
    if (!get) return method_not_allowed("/metrics");
    r = json_response(200, render_metrics());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.route = "/metrics";
    return r;
  }
  if (path == "/openapi.json") {
    if (!get) return method_not_allowed("/openapi.json");
    r = json_response(200, openapi_);
    r.route = "/openapi.json";
    return r;
  }
  if (const DocsAsset* a = find_docs_asset(path)) {
    if (!get) return method_not_allowed("/docs");
    r = json_response(200, std::string(a->body));
    r.content_type = std::string(a->content_type);
    r.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.route = "/docs";
    return r;
  }
  r = v2 ? oip_error(404, "Not Found") : detail_error(404, "Not Found");
  r.route = "unknown";
  return r;
}

HttpResponse App::refusal(const HttpRequest* head, int status, std::string_view message) {
  const bool v2 = head && (head->path == "/v2" || head->path.starts_with("/v2/"));
  HttpResponse r = v2 ? oip_error(status, message) : detail_error(status, message);
  r.route = "unknown";
  if (head && head->path == "/predict") r.route = "/predict";
  if (v2)
    if (ModelPath p = parse_model_path(head->path); p.ok) r.route = route_template(p);
  return r;
}

// ---- admission ---------------------------------------------------------------------------

void App::submit(Submission s, Responder respond) {
  VersionRuntime* v = s.version;
  const bool oip = s.oip;
  auto error = [oip](int status, std::string_view msg) {
    return oip ? oip_error(status, msg) : detail_error(status, msg);
  };
  auto finish = std::move(s.finish);
  ModelRuntime* m = s.model;
  s.job->done = [m, v, oip, finish = std::move(finish), respond, error](JobResult&& r) mutable {
    HttpResponse resp;
    switch (r.status) {
      case JobStatus::kOk: {
        const auto t0 = Clock::now();
        resp = finish(r);
        v->m.output_us->inc(micros_since(t0));
        if (resp.status == 200) v->m.success->inc();
        break;
      }
      case JobStatus::kTimeout:
        resp = error(503, oip ? "request timed out in the queue" : "Service Unavailable");
        v->m.fail_timeout->inc();
        break;
      case JobStatus::kCanceled:
        resp = error(503, "the client closed the connection");  // written nowhere
        v->m.fail_canceled->inc();
        break;
      case JobStatus::kDraining:
        resp = error(503, oip ? "the server is shutting down" : "Service Unavailable");
        v->m.fail_rejected->inc();
        break;
      case JobStatus::kBackend:
        resp = error(500, r.error);
        v->m.fail_backend->inc();
        break;
    }
    resp.model = m->config.name;
    resp.version = v->label;
    resp.queue_us = r.queue_us;
    resp.compute_us = r.compute_us;
    resp.batch = r.batch_rows;
    v->m.queue_us->inc(r.queue_us);
    v->m.queue_seconds->observe(static_cast<double>(r.queue_us) * 1e-6);
    respond(std::move(resp));
  };
  switch (scheduler_.submit(v->queue, s.job, false)) {
    case Admission::kQueued:
      once_per_round([](void* sched) { static_cast<Scheduler*>(sched)->wake(); }, &scheduler_);
      return;
    case Admission::kFull: {
      v->m.fail_rejected->inc();
      HttpResponse r = oip ? oip_error(429, "the model's queue is full") : detail_error(429, "Too Many Requests");
      r.model = m->config.name;
      r.version = v->label;
      return respond(std::move(r));
    }
    case Admission::kDraining: {
      v->m.fail_rejected->inc();
      HttpResponse r = oip ? oip_error(503, "the server is shutting down") : detail_error(503, "Service Unavailable");
      r.model = m->config.name;
      r.version = v->label;
      return respond(std::move(r));
    }
  }
}

// ---- after each response -----------------------------------------------------------------

void App::count_request(const HttpRequest& req, const HttpResponse& resp) {
  // (route, method, code) -> its counter and the route's histogram, cached per thread: with()
  // locks, this path must not. A handful of entries: a linear search without allocation.
  struct Entry {
    std::string route, method;
    int status;
    Counter* counter;
    Histogram* seconds;
  };
  thread_local std::vector<Entry> cache;
  thread_local const App* owner = nullptr;
  if (owner != this) {
    cache.clear();
    owner = this;
  }
  const std::string_view route = resp.route.empty() ? std::string_view("unknown") : std::string_view(resp.route);
  const std::string_view method = req.method.size() <= 8 ? std::string_view(req.method) : std::string_view("OTHER");
  Entry* e = nullptr;
  for (Entry& c : cache)
    if (c.status == resp.status && c.route == route && c.method == method) {
      e = &c;
      break;
    }
  if (!e) {
    cache.push_back(Entry{std::string(route), std::string(method), resp.status,
                          &http_requests_->with({route, method, std::to_string(resp.status)}),
                          &http_seconds_->with({route})});
    e = &cache.back();
  }
  e->counter->inc();
  e->seconds->observe(static_cast<double>(micros_since(req.start)) * 1e-6);
}

void App::completed(const HttpRequest& req, const HttpResponse& resp, size_t bytes_out) {
  count_request(req, resp);
  if (!log_.enabled() || (!options_.log_probes && is_probe(resp.route))) return;
  const uint64_t duration = micros_since(req.start);
  std::string line;
  line.reserve(320);
  if (log_.format() == AccessLog::Format::kText) {
    line = rfc3339_now() + " " + req.remote + " \"" + req.method + " " + escape(req.target, 512) + "\" " +
           std::to_string(resp.status) + " " + std::to_string(bytes_out) + " " + std::to_string(duration) + "us " +
           req.request_id;
  } else {
    JsonWriter w(line);
    w.begin_object();
    w.key("ts");
    w.string(rfc3339_now());
    w.key("request_id");
    w.string(req.request_id);
    w.key("remote");
    w.string(req.remote);
    w.key("method");
    w.string(req.method);
    w.key("path");
    w.string(escape(req.path, 512));
    w.key("route");
    w.string(resp.route);
    w.key("status");
    w.number(resp.status);
    w.key("bytes_in");
    w.number(req.bytes_in);
    w.key("bytes_out");
    w.number(bytes_out);
    w.key("duration_us");
    w.number(duration);
    if (!resp.model.empty()) {
      w.key("queue_us");
      w.number(resp.queue_us);
      w.key("compute_us");
      w.number(resp.compute_us);
      w.key("model");
      w.string(resp.model);
      w.key("version");
      w.string(resp.version);
      w.key("batch");
      w.number(resp.batch);
    }
    w.key("conn");
    w.number(req.connection);
    if (resp.status >= 400) {
      w.key("error");
      w.string(resp.error);
    }
    if (!req.trace_id.empty()) {
      w.key("trace_id");
      w.string(req.trace_id);
    }
    w.end_object();
  }
  log_.write(std::move(line));
}

void App::connection_event(std::string_view what, int delta) {
  if (what == "active") {
    connections_active_->add(delta);
    if (delta > 0) connections_total_->inc();
  } else if (what == "limit") {
    connections_rejected_->inc();
  } else {
    timeouts_->with({what}).inc();
  }
}

std::string App::render_metrics() {
  for (const auto& m : models_)
    for (const auto& v : m->versions) {
      v->m.pending->set(static_cast<double>(v->queue ? v->queue->pending() : 0));
      v->m.ready->set(v->ready.load() ? 1 : 0);
    }
  const uint64_t seen = log_dropped_->value(), now = log_.dropped();
  if (now > seen) log_dropped_->inc(now - seen);
  return registry_.render();
}

}  // namespace torchless::serve
