// src/serve/metrics.h — a small Prometheus registry: counters, gauges and histograms in
// labelled families, rendered in the text exposition format 0.0.4 (specs/serving.md 6.1).
//
// Hot path: a child metric (Family::with) is created once, at startup or model load, under a
// lock; the reference stays valid for the registry's lifetime and its updates take no lock.
// Counters and histograms are sharded: each thread updates its own cache line with relaxed
// atomics and render() sums the shards, so I/O threads never share a line.
//
//   Registry reg;
//   Counter& ok = reg.counter("torchless_inference_request_success", "...", {"model", "version"})
//                    .with({"mlp", "1"});
//   ok.inc();                                  // lock-free
//   std::string text = reg.render();           // GET /metrics
//
// Names and label names are fixed by the server's code: a malformed one, a family registered
// twice with another type or labels, or with() given the wrong number of values is a bug in
// torchless and aborts with a message.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace torchless::serve {

// Shards per counter and histogram: threads get shards round-robin, so up to this many threads
// never share a cache line (more threads share, still exactly).
inline constexpr unsigned kMetricShards = 16;

// This thread's shard, fixed at its first metric update.
unsigned metric_shard_slow();
inline unsigned metric_shard() {
  thread_local unsigned shard = metric_shard_slow();
  return shard;
}

// A monotonically increasing integer (Prometheus counter).
class Counter {
 public:
  void inc(uint64_t n = 1) { cells_[metric_shard()].v.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const;  // the sum of the shards

 private:
  struct alignas(64) Cell {
    std::atomic<uint64_t> v{0};
  };
  Cell cells_[kMetricShards];
};

// A value that goes up and down (Prometheus gauge). One atomic on its own cache line: a gauge
// must read the same from every thread, so it is not sharded; add() is a CAS loop.
class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double d);
  void inc() { add(1); }
  void dec() { add(-1); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<double> v_{0};
};

// Observations counted in buckets with fixed upper bounds (Prometheus histogram, `le`
// semantics: a value goes to the first bucket whose bound is >= value; NaN goes to +Inf).
class Histogram {
 public:
  // bounds: strictly increasing, finite; +Inf is implicit.
  explicit Histogram(std::span<const double> bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  struct alignas(64) Line {
    std::atomic<uint64_t> w[8];
  };
  std::atomic<uint64_t>& slot(unsigned shard, size_t i) const {
    return lines_[shard * lines_per_shard_ + i / 8].w[i % 8];
  }
  std::vector<double> bounds_;
  size_t lines_per_shard_;            // slots: bucket counts (bounds + 1), then the sum's bits
  std::unique_ptr<Line[]> lines_;
};

// The spec's latency buckets in seconds: 0.00005 ... 10 (+Inf implicit).
std::span<const double> latency_buckets();
// 1, 2, 4, ... up to max_batch, and max_batch itself when it is not a power of two.
std::vector<double> batch_buckets(uint64_t max_batch);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
             const char* type);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const char* type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  void render(std::string& out) const;  // # HELP, # TYPE and the samples

 protected:
  // `a="x",b="y"` for the given values (escaped); aborts on a count mismatch.
  std::string label_key(std::span<const std::string_view> values) const;
  virtual void render_samples(std::string& out) const = 0;

  std::string name_, help_;
  std::vector<std::string> label_names_;
  const char* type_;
  mutable std::mutex mu_;  // guards the children list, not the metrics
};

// One metric per distinct tuple of label values, in creation order.
template <class M>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {});
  // The child for these label values (in label_names order), created on first use. Locks.
  M& with(std::initializer_list<std::string_view> values) {
    return with(std::span<const std::string_view>(values.begin(), values.size()));
  }
  M& with(std::span<const std::string_view> values);

 private:
  void render_samples(std::string& out) const override;
  struct Child {
    std::string labels;  // rendered `a="x",b="y"`
    std::unique_ptr<M> metric;
  };
  std::vector<Child> children_;
  std::vector<double> bounds_;  // histograms only
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// The families of one exposition, in registration order, plus the process metrics.
class Registry {
 public:
  // Registering an existing name returns that family (same type and labels, else abort).
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::span<const double> bounds);

  // The text format 0.0.4 of every family, then process_cpu_seconds_total,
  // process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
  // process_max_fds and process_start_time_seconds (read from /proc at each call).
  std::string render() const;
  void set_process_metrics(bool on) { process_metrics_ = on; }

 private:
  template <class M>
  Family<M>& add(std::string name, std::string help, std::vector<std::string> labels,
                 std::vector<double> bounds);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  bool process_metrics_ = true;
};

// Value text as Prometheus clients write it: Python's repr, "+Inf", "-Inf", "NaN", and Go's
// exponent form for values of 1e6 and above ("1e+06", as the Python client does for `le`).
char* write_prom_value(char* out, double v);
// Escapes a label value (\\, \", \n) onto out.
void append_label_value(std::string& out, std::string_view v);

}  // namespace torchless::serve
