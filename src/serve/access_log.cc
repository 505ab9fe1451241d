#include "serve/access_log.h"

#include <limits.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "serve/json_writer.h"

namespace torchless::serve {

std::string rfc3339_now() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  // The date and time of day change once a second: formatted then, the microseconds each call.
  thread_local time_t cached = -1;
  thread_local char head[24];
  if (tv.tv_sec != cached) {
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
    cached = tv.tv_sec;
  }
  char buf[40];
  const int n = snprintf(buf, sizeof buf, "%s.%06ldZ", head, static_cast<long>(tv.tv_usec));
  return std::string(buf, static_cast<size_t>(n));
}

AccessLog::AccessLog(Format format, size_t max_queued) : format_(format), max_queued_(max_queued) {
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void AccessLog::write(std::string line) {
  if (!enabled()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_queued_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(line));
    // The logger wakes by itself every few milliseconds; a request only wakes it when the
    // queue fills up (a wake-up per line would cost a system call per request).
    if (queue_.size() != kWakeLines) return;
  }
  cv_.notify_one();
}

void AccessLog::event(std::string_view level, std::string_view msg) {
  std::string line;
  if (format_ == Format::kText) {
    line = rfc3339_now() + " " + std::string(level) + " " + std::string(msg);
  } else {
    JsonWriter w(line);
    w.begin_object();
    w.key("ts");
    w.string(rfc3339_now());
    w.key("level");
    w.string(level);
    w.key("msg");
    w.string(msg);
    w.end_object();
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(line));
  }
  cv_.notify_one();
}

void AccessLog::flush() {
  std::unique_lock lock(mu_);
  flushed_.wait_for(lock, std::chrono::seconds(5), [this] { return queue_.empty() && !busy_; });
}

bool AccessLog::stopping() {
  std::lock_guard lock(mu_);
  return stop_;
}

void AccessLog::run() {
  std::vector<std::string> batch;
  std::string out;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(kIntervalMs), [this] { return stop_ || queue_.size() >= kWakeLines; });
    if (queue_.empty() && !stop_) continue;
    if (queue_.empty() && stop_) return;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    out.clear();
    for (auto& l : batch) {
      out += l;
      out += '\n';
    }
    batch.clear();
    // Written in pipe-sized pieces, each only once stdout can take it: a reader that stops
    // reading (a full pipe) costs lines (dropped and counted), never a blocked server or a
    // shutdown that cannot finish.
    size_t at = 0;
    int waited_ms = 0;
    while (at < out.size()) {
      pollfd p{STDOUT_FILENO, POLLOUT, 0};
      if (poll(&p, 1, 100) != 1) {
        waited_ms += 100;
        if (stopping() || waited_ms >= 1000) break;
        continue;
      }
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) break;
      ssize_t n = ::write(STDOUT_FILENO, out.data() + at, std::min<size_t>(out.size() - at, PIPE_BUF));
      if (n <= 0) break;
      at += static_cast<size_t>(n);
      waited_ms = 0;
    }
    if (at < out.size()) dropped_.fetch_add(static_cast<uint64_t>(std::count(out.begin() + static_cast<ptrdiff_t>(at), out.end(), '\n')), std::memory_order_relaxed);
    lock.lock();
    busy_ = false;
    flushed_.notify_all();
  }
}

}  // namespace torchless::serve
