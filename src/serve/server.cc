// torchless::Server: thread counts from the CPU quota, start-up (listen, load, warm up,
// ready) and the graceful shutdown of specs/serving.md 6.6.
#include <sched.h>

#include <cmath>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "serve/app.h"
#include "serve/http.h"
#include "torchless/serve.h"

namespace torchless {

using serve::App;
using serve::Clock;
using serve::HttpLimits;
using serve::HttpServer;

namespace {

// CPUs this process may use: the cgroup quota (v2 cpu.max, v1 CFS), else the affinity mask.
int effective_cpus() {
  cpu_set_t set;
  int cpus = 1;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
  auto quota_cpus = [](double quota, double period) {
    return quota > 0 && period > 0 ? std::max(1, static_cast<int>(std::ceil(quota / period))) : 0;
  };
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string q;
  double period = 0;
  int limit = 0;
  if (v2 >> q >> period) {
    if (q != "max") limit = quota_cpus(std::stod(q), period);
  } else {
    std::ifstream qf("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), pf("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    double quota = 0;
    if (qf >> quota && pf >> period) limit = quota_cpus(quota, period);
  }
  return limit > 0 ? std::min(cpus, limit) : cpus;
}

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, seconds) * 1000));
}

}  // namespace

struct Server::Impl {
  ServeOptions options;
  std::unique_ptr<App> app;
  std::unique_ptr<HttpServer> http;
  std::thread lifecycle;
  std::mutex mu;
  std::condition_variable cv;
  bool shutdown_requested = false;
  int exit_code = 0;

  void run_lifecycle();
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  shutdown();
  wait();
}

Result<std::unique_ptr<Server>> Server::start(const ServeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  ServeOptions& o = impl->options;
  const int cpus = effective_cpus();
  const int http_threads = o.http_threads > 0 ? o.http_threads : std::max(1, cpus / 4);
  if (o.threads <= 0) o.threads = std::max(1, cpus - http_threads);
  if (o.access_log != "json" && o.access_log != "text" && o.access_log != "off")
    return Error(Error::Code::kInvalidArgument, "serve: --access-log must be json, text or off");
  if (!o.preprocess.empty() && o.preprocess != "imagenet")
    return Error(Error::Code::kInvalidArgument, "serve: --preprocess must be imagenet");

  HttpLimits limits;
  limits.max_header_bytes = o.max_header_bytes;
  limits.max_uri_bytes = o.max_uri_bytes;
  limits.max_body_bytes = o.max_body_bytes;
  limits.max_multipart_bytes = o.max_multipart_bytes;
  limits.max_connections = o.max_connections;
  limits.pipeline_depth = std::max<size_t>(1, o.pipeline_depth);
  limits.header_timeout = ms(o.header_timeout_s);
  limits.body_timeout = ms(o.body_timeout_s);
  limits.idle_timeout = ms(o.idle_timeout_s);
  limits.write_timeout = ms(o.write_timeout_s);

  impl->app = std::make_unique<App>(o);
  impl->http = std::make_unique<HttpServer>(*impl->app, limits, http_threads);
  if (auto s = impl->http->listen(o.host, o.port); !s) return s.error();
  // Liveness answers from here on; readiness once every model is loaded and warmed up.
  impl->http->start();
  impl->app->log().event("info", "listening on " + o.host + ":" + std::to_string(impl->http->port()) + " (" +
                                     std::to_string(http_threads) + " HTTP thread(s), " + std::to_string(o.threads) +
                                     " inference worker(s))");
  if (auto s = impl->app->load(); !s) {
    impl->http->stop();
    return s.error();
  }
  impl->app->set_ready(true);
  impl->app->log().event("info", "ready");
  Impl* raw = impl.get();
  impl->lifecycle = std::thread([raw] { raw->run_lifecycle(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->http->port(); }

void Server::shutdown() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->shutdown_requested = true;
  }
  impl_->cv.notify_all();
}

int Server::wait() {
  if (impl_->lifecycle.joinable()) impl_->lifecycle.join();
  return impl_->exit_code;
}

void Server::Impl::run_lifecycle() {
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return shutdown_requested; });
  }
  // 1. Readiness 503 at once; 2. everything else continues for the shutdown delay.
  app->set_ready(false);
  app->log().event("info", "shutting down: readiness off");
  std::this_thread::sleep_for(ms(options.shutdown_delay_s));
  // 3. Listeners and idle connections close; responses carry Connection: close.
  http->stop_accepting();
  // 4. Drain: batch delays expire; wait for queued and running requests.
  app->drain();
  const auto deadline = Clock::now() + ms(options.drain_timeout_s);
  bool clean = app->scheduler().wait_idle(deadline);
  if (!clean) {
    // 5. At the deadline: queued requests get 503, running batches 2 s more.
    app->scheduler().fail_queued();
    app->scheduler().wait_idle(Clock::now() + std::chrono::seconds(2));
  }
  // Let the I/O threads write the last responses (connections close after them).
  const auto write_deadline = Clock::now() + std::chrono::seconds(clean ? 5 : 2);
  while (http->active_connections() > 0 && Clock::now() < write_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  http->stop();
  app->log().event("info", clean ? "stopped after a clean drain" : "stopped after the drain deadline");
  app->log().flush();
  exit_code = clean ? 0 : 2;
}

}  // namespace torchless
