// torchless serve / healthcheck: command-line glue around torchless::Server and a tiny client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "commands.h"

namespace torchless::cli {

namespace {

// "5", "5s", "500ms", "1.5" -> seconds; nullopt when malformed.
std::optional<double> seconds(const std::string& s) {
  double scale = 1;
  std::string num = s;
  if (num.ends_with("ms")) {
    scale = 1e-3;
    num.resize(num.size() - 2);
  } else if (num.ends_with("s")) {
    num.pop_back();
  }
  char* end = nullptr;
  errno = 0;
  double v = strtod(num.c_str(), &end);
  if (num.empty() || errno || end != num.c_str() + num.size() || !(v >= 0) || v > 86400) return std::nullopt;
  return v * scale;
}

}  // namespace

int serve(ServeArgs& a) {
  ServeOptions& o = a.options;
  if (a.max_batch_size >= 0) o.max_batch_size = a.max_batch_size;
  if (a.threads_per_instance > 0) o.threads_per_instance = a.threads_per_instance;
  if (a.max_queue_delay_us >= 0) o.max_queue_delay_us = static_cast<uint64_t>(a.max_queue_delay_us);
  if (a.max_queue_size > 0) o.max_queue_size = static_cast<size_t>(a.max_queue_size);
  if (a.queue_timeout_us >= 0) o.queue_timeout_us = static_cast<uint64_t>(a.queue_timeout_us);
  o.exit_on_error = a.exit_on_error == "true";
  struct Duration {
    const char* flag;
    const std::string& text;
    double& out;
  };
  for (const Duration& d : {Duration{"--shutdown-delay", a.shutdown_delay, o.shutdown_delay_s},
                            Duration{"--drain-timeout", a.drain_timeout, o.drain_timeout_s},
                            Duration{"--header-timeout", a.header_timeout, o.header_timeout_s},
                            Duration{"--body-timeout", a.body_timeout, o.body_timeout_s},
                            Duration{"--idle-timeout", a.idle_timeout, o.idle_timeout_s},
                            Duration{"--write-timeout", a.write_timeout, o.write_timeout_s}}) {
    auto v = seconds(d.text);
    if (!v) {
      fprintf(stderr, "torchless serve: %s %s: expected seconds (5, 5s, 500ms)\n", d.flag, d.text.c_str());
      return 2;
    }
    d.out = *v;
  }
  // SIGTERM / SIGINT are taken by sigwait below, in this thread only (every server thread
  // inherits the blocked mask). SIGPIPE is ignored: a client that goes away is an EPIPE.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = Server::start(o);
  if (!server) return report(server.error());
  fprintf(stderr, "torchless serve: listening on http://%s:%u (docs at /docs)\n", o.host.c_str(),
          static_cast<unsigned>(server.value()->port()));
  int sig = 0;
  sigwait(&signals, &sig);
  server.value()->shutdown();
  // A second signal exits at once.
  std::thread([signals]() mutable {
    int again = 0;
    sigwait(&signals, &again);
    _exit(130);
  }).detach();
  return server.value()->wait();
}

int healthcheck(const HealthcheckArgs& a) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(a.port));
  if (inet_pton(AF_INET, a.host.c_str(), &addr.sin_addr) != 1) {
    fprintf(stderr, "torchless healthcheck: --host must be an IPv4 address\n");
    close(fd);
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(a.timeout * 1000));
  auto wait_for = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, events, 0};
    return left > 0 && poll(&p, 1, static_cast<int>(left)) == 1;
  };
  std::string response;
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 || errno == EINPROGRESS) {
    const std::string req = "GET /v2/health/live HTTP/1.1\r\nHost: " + a.host + "\r\nConnection: close\r\n\r\n";
    if (wait_for(POLLOUT) && send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      while (response.size() < 4096 && wait_for(POLLIN)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        response.append(buf, static_cast<size_t>(n));
        if (response.find("\r\n") != std::string::npos) break;
      }
      ok = response.starts_with("HTTP/1.1 200 ") || response.starts_with("HTTP/1.0 200 ");
    }
  }
  close(fd);
  if (!ok) fprintf(stderr, "torchless healthcheck: %s:%d is not live\n", a.host.c_str(), a.port);
  return ok ? 0 : 1;
}

}  // namespace torchless::cli
