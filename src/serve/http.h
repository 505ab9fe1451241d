// src/serve/http.h — the HTTP/1.1 front end of `torchless serve` (Boost.Beast parser on Asio).
//
// One io_context per I/O thread, each with its own SO_REUSEPORT listener, so the kernel spreads
// connections and a connection stays on one thread for its life (no locks on the request path).
// A session reads requests ahead (pipelining, up to `pipeline_depth`), hands each one to the
// HttpHandler, and writes the responses strictly in request order as they complete; a full
// window stops reading (TCP back-pressure). Deadlines are whole-phase (header, body, idle,
// write), enforced by per-session timers. No Beast type crosses this header, so the route
// handlers compile without Beast.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "torchless/error.h"

namespace torchless::serve {

struct HttpLimits {
  size_t max_header_bytes = 16 << 10;         // request line + headers: 431; also bounds what
                                              // is buffered beyond bodies (chunk lines, trailers)
  size_t max_uri_bytes = 4 << 10;             // 414
  uint64_t max_body_bytes = 16 << 20;         // JSON and binary bodies: 413
  uint64_t max_multipart_bytes = 20 << 20;    // multipart bodies: 413
  std::chrono::milliseconds header_timeout{10'000};  // whole header, from its first byte: 408
  std::chrono::milliseconds body_timeout{30'000};    // 408
  std::chrono::milliseconds idle_timeout{65'000};    // keep-alive: silent close
  std::chrono::milliseconds write_timeout{30'000};   // slow reader: close
  size_t max_connections = 4096;              // beyond: 503 and close
  size_t pipeline_depth = 16;                 // requests read ahead per connection
};

// A parsed request. Header names are lower-cased; the body is complete (chunked decoded).
struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: path and query
  std::string path;     // target without the query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;     // capacity includes simdjson's padding
  std::string request_id;
  std::string trace_id;  // from a W3C traceparent header, for the log
  std::string remote;   // "ip:port"
  uint64_t bytes_in = 0; // body bytes
  std::shared_ptr<const std::atomic<bool>> closed;  // becomes true when the connection closes
  uint64_t connection = 0;
  std::chrono::steady_clock::time_point start;
  int version = 11;     // 10 or 11

  // The value of a header (first occurrence), or "" when absent. `name` must be lower case.
  std::string_view header(std::string_view name) const;
};

// A response. The session adds Content-Length, Date, Server, X-Request-ID and Connection.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;      // close the connection after this response
  // For logs and metrics, filled by the handler: the route template ("/v2/models/{name}/infer"),
  // the model and version that served it, the queue and compute times, the rows executed with
  // it, and a one-line error for failures.
  std::string route;
  std::string model, version, error;
  uint64_t queue_us = 0, compute_us = 0;
  int batch = 0;
};

// Completes a request: call exactly once, from any thread.
using Responder = std::function<void(HttpResponse&&)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // After the header, before the body is read (also decides `Expect: 100-continue`): returns a
  // response to refuse the request at once (404, 405, 413, 415), or nothing and sets the body
  // limit that applies to this route and content type.
  virtual std::optional<HttpResponse> precheck(const HttpRequest& head, uint64_t& body_limit) = 0;
  // The complete request; `respond` may be called later from another thread.
  virtual void handle(std::unique_ptr<HttpRequest> request, Responder respond) = 0;
  // The response for a request the HTTP layer refuses itself (400 framing, 408, 413, 414, 431,
  // 501, 503 at the connection cap), in the error style of the route; `head` is null when the
  // request line could not be read.
  virtual HttpResponse refusal(const HttpRequest* head, int status, std::string_view message) = 0;
  // After a response was written (or failed to be): access log and metrics.
  virtual void completed(const HttpRequest& request, const HttpResponse& response, size_t bytes_out) = 0;
  // A connection-level event without a request: a timeout ("header", "body", "idle", "write"),
  // a refused connection ("limit"), or the active connection count changing (+1/-1).
  virtual void connection_event(std::string_view what, int delta) = 0;
};

class HttpServer {
 public:
  HttpServer(HttpHandler& handler, HttpLimits limits, int io_threads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port on every I/O thread (port 0 picks a free port, see port()).
  Status listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  // Starts the I/O threads.
  void start();
  // Draining: responses carry `Connection: close`, listeners close, idle connections close.
  void stop_accepting();
  size_t active_connections() const;
  // Closes every connection and joins the I/O threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs fn(arg) once after the current round of ready events of this I/O thread, however often
// it is asked for in that round; from any other thread, at once. The handlers use it to wake
// the inference workers once per round of requests rather than once per request, so a burst
// read from many connections becomes one batch.
void once_per_round(void (*fn)(void*), void* arg);

// "Thu, 03 Dec 2026 10:00:00 GMT" for the current second (cached per thread).
std::string_view http_date();
// The reason phrase of a status code ("Not Found").
std::string_view http_reason(int status);

}  // namespace torchless::serve
