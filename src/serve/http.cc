// The Beast/Asio session machine behind http.h. Per connection:
//
//   wait for bytes (idle deadline) -> header (header deadline) -> precheck -> [100 Continue]
//   -> body (body deadline) -> handler; meanwhile responses are written in request order.
//
// Everything a session does runs on its io_context's single thread; responders from worker
// threads post back to it.
#include "serve/http.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <thread>

namespace torchless::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.first == name) return h.second;
  return {};
}

std::string_view http_date() {
  thread_local time_t cached_second = 0;
  thread_local char buf[40];
  thread_local size_t len = 0;
  time_t now = time(nullptr);
  if (now != cached_second) {
    struct tm tm;
    gmtime_r(&now, &tm);
    len = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

std::string_view http_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

namespace {

constexpr size_t kBodyPadding = 64;  // simdjson::SIMDJSON_PADDING: bodies are parsed in place

// A request id: 128 random bits in hex.
std::string fresh_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) id[half * 16 + i] = kHex[(v >> (60 - 4 * i)) & 15];
  }
  return id;
}

bool valid_client_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  return true;
}

using boost::beast::iequals;

// "HTTP/1.1 200 OK\r\n..." with the headers every response carries.
// A response to HEAD has the headers of the GET, no body.
std::string serialize(const HttpResponse& r, const std::string& request_id, bool close, int version, bool head) {
  std::string out;
  out.reserve(192 + r.body.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char num[24];
  out.append(num, std::to_chars(num, num + sizeof num, r.status).ptr);
  out += ' ';
  out += http_reason(r.status);
  out += "\r\nServer: torchless/" TORCHLESS_VERSION "\r\nDate: ";
  out += http_date();
  out += "\r\nContent-Type: ";
  out += r.content_type;
  out += "\r\nContent-Length: ";
  out.append(num, std::to_chars(num, num + sizeof num, r.body.size()).ptr);
  out += "\r\nX-Request-ID: ";
  out += request_id;
  for (const auto& h : r.headers) {
    out += "\r\n";
    out += h.first;
    out += ": ";
    out += h.second;
  }
  if (close)
    out += "\r\nConnection: close";
  else if (version == 10)
    out += "\r\nConnection: keep-alive";
  out += "\r\n\r\n";
  if (!head) out += r.body;
  return out;
}


struct IoThread;
thread_local IoThread* tl_io = nullptr;  // the I/O thread this is, if any
thread_local std::vector<std::pair<void (*)(void*), void*>> tl_round;  // once_per_round() requests

struct Shared {
  HttpHandler& handler;
  HttpLimits limits;
  std::atomic<bool> draining{false};
  std::atomic<size_t> connections{0};
  std::atomic<uint64_t> next_connection{1};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared, IoThread& io)
      : socket_(std::move(socket)), shared_(shared), io_(io), read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()),
        // What is buffered beyond bodies (headers, chunk lines, trailers, requests read ahead) is
        // bounded: bodies move into their strings, the rest may not grow without limit.
        buffer_(shared.limits.max_header_bytes + (64 << 10)),
        id_(shared.next_connection.fetch_add(1)) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    socket_.set_option(tcp::no_delay(true), ec);
  }

  void start();
  // Draining: a connection with nothing in flight and no request bytes waiting in the kernel
  // closes; one whose next request has arrived reads it and answers it with Connection: close.
  void close_if_idle() {
    if (waiting_idle_ && slots_.empty() && !bytes_waiting()) close();
  }
  bool bytes_waiting() {
    boost::system::error_code ec;
    return socket_.available(ec) > 0 && !ec;
  }
  void close() {
    closed_->store(true, std::memory_order_relaxed);
    boost::system::error_code ec;
    read_timer_.cancel();
    write_timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  struct Slot {
    std::unique_ptr<HttpRequest> request;  // kept for completed(); the body is released first
    bool ready = false;
    HttpResponse response;
  };

  void wait_for_request();
  void read_header();
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void dispatch();
  void complete(uint64_t seq, HttpResponse&& r);
  void write_next();
  // Answers the request being read with the handler's error response, then closes.
  void refuse(int status, std::string message);
  void refuse(HttpResponse r);
  void arm_read(std::chrono::milliseconds d, const char* phase);
  std::unique_ptr<HttpRequest> head_request();
  void finish_reading();

  tcp::socket socket_;
  Shared& shared_;
  IoThread& io_;
  asio::steady_timer read_timer_, write_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<HttpRequest> pending_;  // the request being read
  const char* read_phase_ = "idle";
  uint64_t body_limit_ = 0;   // of the request being read (its route and content type)
  Clock::time_point request_start_ = Clock::now();  // first byte of the request being read
  bool read_timed_out_ = false;
  bool waiting_idle_ = false;
  bool reading_ = false;      // a read operation is outstanding
  bool read_stopped_ = false; // no more requests on this connection
  bool writing_ = false;
  bool close_after_write_ = false;
  std::deque<Slot> slots_;    // requests in flight, in order
  uint64_t first_seq_ = 0;    // sequence number of slots_.front()
  std::string out_;
  uint64_t id_;
  std::string remote_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
  bool counted_ = false;
 public:
  std::list<std::weak_ptr<Session>>::iterator registry_pos;
  ~Session();
};

struct IoThread {
  // Declaration order matters for destruction: the acceptor goes before its io_context, and the
  // io_context (whose pending handlers may hold the last reference to a Session) before the
  // registry those Sessions remove themselves from.
  std::list<std::weak_ptr<Session>> sessions;  // touched only on ctx's thread
  asio::io_context ctx{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  Shared* shared = nullptr;

  void accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        // EMFILE and friends: try again shortly instead of spinning.
        auto t = std::make_shared<asio::steady_timer>(ctx, std::chrono::milliseconds(50));
        t->async_wait([this, t](boost::system::error_code) { if (acceptor->is_open()) accept(); });
        return;
      }
      size_t n = shared->connections.load(std::memory_order_relaxed);
      if (n >= shared->limits.max_connections || shared->draining.load()) {
        shared->handler.connection_event("limit", 0);
        // 503 and close, written without a session (the kernel buffers this much).
        HttpResponse r = shared->handler.refusal(nullptr, 503, "Service Unavailable");
        std::string bytes = serialize(r, fresh_request_id(), true, 11, false);
        boost::system::error_code wec;
        socket.non_blocking(true, wec);
        socket.write_some(asio::buffer(bytes), wec);
        socket.shutdown(tcp::socket::shutdown_both, wec);
        socket.close(wec);
      } else {
        auto s = std::make_shared<Session>(std::move(socket), *shared, *this);
        sessions.push_front(s);
        s->registry_pos = sessions.begin();
        s->start();
      }
      accept();
    });
  }
};

Session::~Session() {
  if (counted_) {
    shared_.connections.fetch_sub(1);
    shared_.handler.connection_event("active", -1);
  }
  io_.sessions.erase(registry_pos);
}

void Session::start() {
  counted_ = true;
  shared_.connections.fetch_add(1);
  shared_.handler.connection_event("active", +1);
  wait_for_request();
}

void Session::arm_read(std::chrono::milliseconds d, const char* phase) {
  read_phase_ = phase;
  read_timed_out_ = false;
  read_timer_.expires_after(d);
  read_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the read finished in time
    self->read_timed_out_ = true;
    // Ends the pending read (it completes with EOF) without cancelling a write in progress.
    boost::system::error_code cec;
    self->socket_.shutdown(tcp::socket::shutdown_receive, cec);
  });
}

// Between requests: wait for the first byte under the idle deadline, unless pipelined bytes
// are already buffered.
void Session::wait_for_request() {
  if (read_stopped_) return;
  if (slots_.size() >= shared_.limits.pipeline_depth) return;  // resumed by write_next()
  if (buffer_.size() > 0) {
    request_start_ = Clock::now();  // pipelined: this request's bytes are here already
    return read_header();
  }
  if (shared_.draining.load() && slots_.empty() && !bytes_waiting()) return close();
  waiting_idle_ = true;
  reading_ = true;
  // Idle means nothing in flight: while responses are pending the client is waiting for us
  // (the write deadline covers that); the idle deadline starts when the last one is written.
  if (slots_.empty()) arm_read(shared_.limits.idle_timeout, "idle");
  socket_.async_read_some(buffer_.prepare(std::min<size_t>(16 << 10, buffer_.max_size() - buffer_.size())),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->reading_ = false;
    self->waiting_idle_ = false;
    self->read_timer_.cancel();
    if (ec || n == 0) {
      if (self->read_timed_out_) self->shared_.handler.connection_event("idle", 0);
      self->read_stopped_ = true;
      if (self->slots_.empty()) self->close();
      return;
    }
    self->buffer_.commit(n);
    self->request_start_ = Clock::now();
    self->read_header();
  });
}

void Session::read_header() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(shared_.limits.max_header_bytes));
  // The declared length is checked against the route's limit once the header is read (413 in
  // the route's style); Beast would refuse it during the header otherwise. (Not boost::none:
  // Beast 1.74 compares a Content-Length with the optional itself, and any length > none.)
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  reading_ = true;
  arm_read(shared_.limits.header_timeout, "header");
  bhttp::async_read_header(socket_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

std::unique_ptr<HttpRequest> Session::head_request() {
  auto& msg = parser_->get();
  auto r = std::make_unique<HttpRequest>();
  r->start = request_start_;
  r->method = std::string(msg.method_string());
  r->target = std::string(msg.target());
  r->path = r->target.substr(0, r->target.find('?'));
  r->version = msg.version() == 10 ? 10 : 11;
  r->remote = remote_;
  r->connection = id_;
  r->closed = closed_;
  r->headers.reserve(8);
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    r->headers.emplace_back(std::move(name), std::string(f.value()));
  }
  std::string_view id = r->header("x-request-id");
  r->request_id = valid_client_request_id(id) ? std::string(id) : fresh_request_id();
  // traceparent: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
  std::string_view tp = r->header("traceparent");
  if (tp.size() >= 55 && tp[2] == '-' && tp[35] == '-' &&
      std::all_of(tp.begin() + 3, tp.begin() + 35, [](char c) { return isxdigit(static_cast<unsigned char>(c)); }))
    r->trace_id = std::string(tp.substr(3, 32));
  return r;
}

void Session::on_header(beast::error_code ec) {
  reading_ = false;
  read_timer_.cancel();
  if (ec) {
    read_stopped_ = true;
    if (read_timed_out_) {
      shared_.handler.connection_event("header", 0);
      // 408 only if part of a request arrived (the idle wait saw at least one byte).
      return refuse(408, "Request Timeout");
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
      return refuse(431, "Request Header Fields Too Large");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      if (slots_.empty()) close();
      return;
    }
    return refuse(400, "Bad Request");
  }
  pending_ = head_request();
  if (parser_->get().target().size() > shared_.limits.max_uri_bytes) {
    read_stopped_ = true;
    return refuse(414, "URI Too Long");
  }
  // Transfer codings: only chunked is understood. Another coding is 501; chunked that is not
  // the final coding leaves the body's length undefined (RFC 9112 6.3): 400. Both close.
  if (std::string_view te = pending_->header("transfer-encoding"); !te.empty()) {
    std::string_view last = te.substr(te.rfind(',') == std::string_view::npos ? 0 : te.rfind(',') + 1);
    while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
    while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
    if (!iequals(last, "chunked")) {
      read_stopped_ = true;
      return refuse(400, "Transfer-Encoding must end with chunked");
    }
    if (!iequals(te, "chunked")) {
      read_stopped_ = true;
      return refuse(501, "only the chunked transfer coding is supported");
    }
  }
  uint64_t body_limit = shared_.limits.max_body_bytes;
  if (auto early = shared_.handler.precheck(*pending_, body_limit)) {
    // Refused before the body: the body (if any) is not read, so the connection cannot be reused
    // unless there is none.
    bool has_body = parser_->chunked() || (parser_->content_length() && *parser_->content_length() > 0);
    if (has_body) {
      read_stopped_ = true;
      early->close = true;
    }
    if (!has_body) {
      // Keep the connection: the request is complete.
      finish_reading();
      uint64_t seq = first_seq_ + slots_.size();
      slots_.push_back(Slot{std::move(pending_), false, {}});
      complete(seq, std::move(*early));
      return wait_for_request();
    }
    return refuse(std::move(*early));
  }
  if (auto len = parser_->content_length(); len && *len > body_limit) {
    read_stopped_ = true;
    return refuse(413, "request body larger than " + std::to_string(body_limit) + " bytes");
  }
  body_limit_ = body_limit;
  parser_->body_limit(body_limit);
  std::string_view expect = pending_->header("expect");
  if (!expect.empty() && iequals(expect, "100-continue") && pending_->version == 11 && slots_.empty() && !writing_) {
    // Validated: ask for the body (only when no response is being written, to keep the order).
    writing_ = true;
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(socket_, asio::buffer(kContinue), [self = shared_from_this()](beast::error_code wec, size_t) {
      self->writing_ = false;
      if (wec) {
        self->read_stopped_ = true;
        self->close();
        return;
      }
      self->read_body();
      self->write_next();
    });
    return;
  }
  read_body();
}

void Session::read_body() {
  if (parser_->is_done()) return on_body({});
  reading_ = true;
  arm_read(shared_.limits.body_timeout, "body");
  bhttp::async_read(socket_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
}

void Session::on_body(beast::error_code ec) {
  reading_ = false;
  read_timer_.cancel();
  if (ec) {
    read_stopped_ = true;
    if (read_timed_out_) {
      shared_.handler.connection_event("body", 0);
      return refuse(408, "Request Timeout");
    }
    if (ec == bhttp::error::body_limit)
      return refuse(413, "request body larger than " + std::to_string(body_limit_) + " bytes");
    // Chunk-size lines, extensions and trailers beyond the buffer bound.
    if (ec == bhttp::error::buffer_overflow) return refuse(400, "chunk header or trailer too long");
    if (ec == bhttp::error::partial_message || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      if (slots_.empty()) close();
      return;
    }
    return refuse(400, "Bad Request");
  }
  dispatch();
}

void Session::finish_reading() {
  if (!parser_->keep_alive()) read_stopped_ = true;
}

void Session::dispatch() {
  finish_reading();
  pending_->body = parser_->release().body();
  pending_->bytes_in = pending_->body.size();
  pending_->body.reserve(pending_->body.size() + kBodyPadding);
  parser_.reset();
  uint64_t seq = first_seq_ + slots_.size();
  slots_.push_back(Slot{nullptr, false, {}});
  HttpRequest* raw = pending_.get();
  slots_.back().request = std::move(pending_);
  // The handler takes the request (headers, body); the slot keeps what completed() needs.
  auto req = std::make_unique<HttpRequest>(std::move(*raw));
  raw->method = req->method;
  raw->target = req->target;
  raw->path = req->path;
  raw->request_id = req->request_id;
  raw->remote = req->remote;
  raw->connection = req->connection;
  raw->start = req->start;
  raw->version = req->version;
  raw->bytes_in = req->bytes_in;
  raw->trace_id = req->trace_id;
  auto executor = socket_.get_executor();
  shared_.handler.handle(std::move(req), [self = shared_from_this(), seq, executor](HttpResponse&& r) {
    asio::post(executor, [self, seq, r = std::move(r)]() mutable { self->complete(seq, std::move(r)); });
  });
  wait_for_request();
}

void Session::refuse(int status, std::string message) {
  refuse(shared_.handler.refusal(pending_.get(), status, message));
}

void Session::refuse(HttpResponse r) {
  read_stopped_ = true;
  r.close = true;
  if (!pending_) {
    // The head was not parsed: a request that exists only for the log.
    pending_ = std::make_unique<HttpRequest>();
    pending_->start = request_start_;
    pending_->remote = remote_;
    pending_->connection = id_;
    pending_->request_id = fresh_request_id();
  }
  uint64_t seq = first_seq_ + slots_.size();
  slots_.push_back(Slot{std::move(pending_), false, {}});
  parser_.reset();
  complete(seq, std::move(r));
}

void Session::complete(uint64_t seq, HttpResponse&& r) {
  if (seq < first_seq_ || seq - first_seq_ >= slots_.size()) return;
  Slot& s = slots_[seq - first_seq_];
  s.response = std::move(r);
  s.ready = true;
  write_next();
}

void Session::write_next() {
  if (writing_ || slots_.empty() || !slots_.front().ready) return;
  Slot& s = slots_.front();
  // The last response of a connection that reads no more (Connection: close, HTTP/1.0 without
  // keep-alive, a refused request, a half-closed client) closes it. Draining, the connection
  // closes after the last request already read or arriving; pipelined ones are all answered.
  const bool draining_done = shared_.draining.load() && (!reading_ || waiting_idle_) && !bytes_waiting();
  bool close = s.response.close || (slots_.size() == 1 && (read_stopped_ || draining_done));
  close_after_write_ = close;
  out_ = serialize(s.response, s.request->request_id, close, s.request->version, s.request->method == "HEAD");
  writing_ = true;
  write_timer_.expires_after(shared_.limits.write_timeout);
  write_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    self->shared_.handler.connection_event("write", 0);
    self->close();
  });
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->writing_ = false;
    self->write_timer_.cancel();
    Slot done = std::move(self->slots_.front());
    self->slots_.pop_front();
    ++self->first_seq_;
    self->shared_.handler.completed(*done.request, done.response, ec ? 0 : n);
    if (ec || self->close_after_write_) {
      self->read_stopped_ = true;
      self->close();
      return;
    }
    self->write_next();
    if (self->slots_.empty() && self->waiting_idle_) self->arm_read(self->shared_.limits.idle_timeout, "idle");
    if (!self->reading_ && !self->read_stopped_) self->wait_for_request();
    if (self->read_stopped_ && self->slots_.empty() && !self->writing_) self->close();
  });
}

}  // namespace

void once_per_round(void (*fn)(void*), void* arg) {
  if (!tl_io) return fn(arg);
  for (const auto& r : tl_round)
    if (r.first == fn && r.second == arg) return;
  if (tl_round.empty())
    // Posted work runs after the completions already ready: the end of this round.
    asio::post(tl_io->ctx, [] {
      auto round = std::move(tl_round);
      tl_round.clear();
      for (const auto& r : round) r.first(r.second);
    });
  tl_round.emplace_back(fn, arg);
}

struct HttpServer::Impl {
  Shared shared;
  std::vector<std::unique_ptr<IoThread>> threads;
  uint16_t port = 0;
  Impl(HttpHandler& h, HttpLimits l) : shared{h, l} {}
};

HttpServer::HttpServer(HttpHandler& handler, HttpLimits limits, int io_threads)
    : impl_(std::make_unique<Impl>(handler, limits)) {
  for (int i = 0; i < std::max(1, io_threads); ++i) {
    impl_->threads.push_back(std::make_unique<IoThread>());
    impl_->threads.back()->shared = &impl_->shared;
  }
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error(Error::Code::kInvalidArgument, "serve: --host " + host + " is not an IP address");
  for (auto& t : impl_->threads) {
    tcp::endpoint ep(address, port);
    t->acceptor.emplace(t->ctx);
    t->acceptor->open(ep.protocol(), ec);
    if (!ec) t->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (setsockopt(t->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec.assign(errno, boost::system::system_category());
    }
    if (!ec) t->acceptor->bind(ep, ec);
    if (!ec) t->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Error(Error::Code::kIo, "serve: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                         ec.message());
    // Port 0: the first listener's port is bound by the others too.
    if (port == 0) port = t->acceptor->local_endpoint().port();
  }
  impl_->port = port;
  return {};
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::start() {
  for (auto& t : impl_->threads) {
    t->accept();
    IoThread* raw = t.get();
    t->thread = std::thread([raw] {
      tl_io = raw;
      auto guard = asio::make_work_guard(raw->ctx);
      raw->ctx.run();
    });
  }
}

void HttpServer::stop_accepting() {
  impl_->shared.draining.store(true);
  for (auto& t : impl_->threads) {
    IoThread* raw = t.get();
    asio::post(raw->ctx, [raw] {
      boost::system::error_code ec;
      if (raw->acceptor) raw->acceptor->close(ec);
      for (auto& w : raw->sessions)
        if (auto s = w.lock()) s->close_if_idle();
    });
  }
}

size_t HttpServer::active_connections() const { return impl_->shared.connections.load(); }

void HttpServer::stop() {
  for (auto& t : impl_->threads) {
    if (!t->thread.joinable()) continue;
    IoThread* raw = t.get();
    asio::post(raw->ctx, [raw] {
      boost::system::error_code ec;
      if (raw->acceptor) raw->acceptor->close(ec);
      for (auto& w : raw->sessions)
        if (auto s = w.lock()) s->close();
    });
  }
  for (auto& t : impl_->threads) {
    if (!t->thread.joinable()) continue;
    // Let the closes run, then end the loop.
    asio::post(t->ctx, [raw = t.get()] { raw->ctx.stop(); });
    t->thread.join();
  }
}

}  // namespace torchless::serve
