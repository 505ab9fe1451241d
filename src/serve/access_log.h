// src/serve/access_log.h — one line per request (and server events) on stdout, written by a
// logger thread so that I/O threads never block on the terminal or a pipe: lines are queued
// and, when the queue is full or stdout is not read, dropped and counted
// (torchless_log_dropped_total).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace torchless::serve {

class AccessLog {
 public:
  enum class Format { kJson, kText, kOff };
  explicit AccessLog(Format format, size_t max_queued = 16384);
  ~AccessLog();  // writes what is queued, then stops

  Format format() const { return format_; }
  bool enabled() const { return format_ != Format::kOff; }
  // Queues one line (without its newline).
  void write(std::string line);
  // A server event: {"ts":...,"level":"info","msg":"..."} (or the text form); never dropped.
  void event(std::string_view level, std::string_view msg);
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Blocks until every queued line is written (at most 5 s: stdout may not be read).
  void flush();

 private:
  void run();
  bool stopping();

  static constexpr size_t kWakeLines = 256;  // queued lines that wake the logger at once
  static constexpr int kIntervalMs = 10;     // else it writes what is queued this often
  const Format format_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_, flushed_;
  std::vector<std::string> queue_;
  bool stop_ = false;
  bool busy_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

// "2026-12-04T18:33:09.123456Z"
std::string rfc3339_now();

}  // namespace torchless::serve
