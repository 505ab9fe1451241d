#include "serve/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "serve/json_writer.h"

namespace torchless::serve {
namespace {

[[noreturn]] void metrics_bug(const std::string& what) {
  std::fprintf(stderr, "torchless: metrics registry misuse: %s\n", what.c_str());
  std::abort();
}

bool valid_name(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void append_help(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void append_value(std::string& out, double v) {
  char buf[kMaxFloatChars + 8];
  out.append(buf, size_t(write_prom_value(buf, v) - buf));
}

void append_value(std::string& out, uint64_t v) { out += std::to_string(v); }

// `name{labels} value\n`; `extra` is one more rendered label (a histogram's le).
template <class V>
void sample(std::string& out, std::string_view name, std::string_view suffix,
            const std::string& labels, std::string_view extra, V value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) out += ',';
    out += extra;
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

// The whole of a small /proc file (at most cap-1 bytes), NUL-terminated; false if unreadable.
bool read_proc(const char* path, char* buf, size_t cap) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = ::read(fd, buf + n, cap - 1 - n);
    if (r <= 0) break;
    n += size_t(r);
  }
  ::close(fd);
  buf[n] = '\0';
  return n > 0;
}

// The boot time (seconds since the epoch) from /proc/stat, whose per-CPU and interrupt lines
// can make it long on big machines; read once.
double boot_time() {
  std::string stat(1 << 20, '\0');
  if (!read_proc("/proc/stat", stat.data(), stat.size())) return 0;
  const char* b = std::strstr(stat.c_str(), "\nbtime ");
  return b ? std::strtod(b + 7, nullptr) : 0;
}

void render_process(std::string& out) {
  long ticks = ::sysconf(_SC_CLK_TCK), page = ::sysconf(_SC_PAGESIZE);
  char buf[4096];
  auto metric = [&out](const char* name, const char* help, const char* type, double v) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    sample(out, name, "", std::string(), "", v);
  };
  if (ticks > 0 && page > 0 && read_proc("/proc/self/stat", buf, sizeof buf)) {
    // Fields after the command name "(...)", which may itself hold spaces and parentheses.
    char* p = std::strrchr(buf, ')');
    unsigned long long f[25] = {};
    if (p) {
      ++p;
      for (int field = 3; field <= 24 && *p; ++field) {
        while (*p == ' ') ++p;
        f[field] = std::strtoull(p, &p, 10);  // state (3) reads as 0
        if (field == 3)
          while (*p && *p != ' ') ++p;
      }
      static const double btime = boot_time();
      metric("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             "counter", double(f[14] + f[15]) / double(ticks));
      metric("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", double(f[23]));
      metric("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
             double(f[24]) * double(page));
      metric("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             "gauge", btime + double(f[22]) / double(ticks));
    }
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    long n = 0;
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    metric("process_open_fds", "Number of open file descriptors.", "gauge", double(n - 1));  // not d's
  }
  rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    metric("process_max_fds", "Maximum number of open file descriptors.", "gauge", double(rl.rlim_cur));
}

void check_bounds(std::span<const double> bounds) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i && !(bounds[i - 1] < bounds[i])))
      metrics_bug("histogram bounds must be finite and strictly increasing");
}

std::atomic<unsigned> g_next_shard{0};

}  // namespace

unsigned metric_shard_slow() {
  return g_next_shard.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
}

char* write_prom_value(char* out, double v) {
  if (std::isnan(v)) return std::copy_n("NaN", 3, out);
  if (std::isinf(v)) return std::copy_n(v > 0 ? "+Inf" : "-Inf", 4, out);
  char* end = write_float_py(out, v);
  const char* dot = std::find(out, end, '.');
  if (v > 0 && dot != end && dot - out > 6 && std::find(out, end, 'e') == end) {
    // "1234567.5" -> "1.2345675e+06": Go's FormatFloat('g', -1) switches to exponents at 1e21
    // only for long digit strings, at 1e6 for short ones; the Python client always does here.
    int exp10 = int(dot - out) - 1;
    char digits[kMaxFloatChars];
    int n = 0;
    for (const char* p = out; p < end; ++p)
      if (*p != '.') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0') --n;
    char* p = out;
    *p++ = digits[0];
    if (n > 1) {
      *p++ = '.';
      p = std::copy_n(digits + 1, n - 1, p);
    }
    p += std::snprintf(p, 8, "e+%02d", exp10);
    return p;
  }
  return end;
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

uint64_t Counter::value() const {
  uint64_t s = 0;
  for (const Cell& c : cells_) s += c.v.load(std::memory_order_relaxed);
  return s;
}

void Gauge::add(double d) {
  double cur = v_.load(std::memory_order_relaxed);
  while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::span<const double> bounds) : bounds_(bounds.begin(), bounds.end()) {
  check_bounds(bounds_);
  lines_per_shard_ = (bounds_.size() + 2 + 7) / 8;
  lines_.reset(new Line[kMetricShards * lines_per_shard_]);
  for (size_t i = 0; i < kMetricShards * lines_per_shard_; ++i)
    for (auto& w : lines_[i].w) w.store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  size_t b = 0, nb = bounds_.size();
  if (std::isnan(v))
    b = nb;
  else
    while (b < nb && bounds_[b] < v) ++b;
  unsigned s = metric_shard();
  slot(s, b).fetch_add(1, std::memory_order_relaxed);
  std::atomic<uint64_t>& sum = slot(s, nb + 1);
  uint64_t cur = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(cur, std::bit_cast<uint64_t>(std::bit_cast<double>(cur) + v),
                                    std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  size_t nb = bounds_.size();
  snap.cumulative.assign(nb + 1, 0);
  for (unsigned s = 0; s < kMetricShards; ++s) {
    for (size_t b = 0; b <= nb; ++b) snap.cumulative[b] += slot(s, b).load(std::memory_order_relaxed);
    snap.sum += std::bit_cast<double>(slot(s, nb + 1).load(std::memory_order_relaxed));
  }
  for (size_t b = 1; b <= nb; ++b) snap.cumulative[b] += snap.cumulative[b - 1];
  return snap;
}

std::span<const double> latency_buckets() {
  static constexpr double kBuckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                        0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                        0.5,     1,      2.5,     5,      10};
  return kBuckets;
}

std::vector<double> batch_buckets(uint64_t max_batch) {
  std::vector<double> b;
  uint64_t p = 1;
  for (; p <= max_batch; p *= 2) {
    b.push_back(double(p));
    if (p > max_batch / 2) break;
  }
  if (max_batch > 0 && double(max_batch) != b.back()) b.push_back(double(max_batch));
  if (b.empty()) b.push_back(1);
  return b;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
                       const char* type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {
  if (!valid_name(name_, true)) metrics_bug("invalid metric name '" + name_ + "'");
  for (const std::string& l : label_names_)
    if (!valid_name(l, false) || l.starts_with("__") || l == "le")
      metrics_bug("invalid label name '" + l + "' for " + name_);
}

std::string FamilyBase::label_key(std::span<const std::string_view> values) const {
  if (values.size() != label_names_.size())
    metrics_bug(name_ + " has " + std::to_string(label_names_.size()) + " labels, given " +
                std::to_string(values.size()) + " values");
  std::string key;
  size_t i = 0;
  for (std::string_view v : values) {
    if (i) key += ',';
    key += label_names_[i++];
    key += "=\"";
    append_label_value(key, v);
    key += '"';
  }
  return key;
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
  std::lock_guard lock(mu_);
  render_samples(out);
}

template <class M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names),
                 std::is_same_v<M, Counter> ? "counter" : std::is_same_v<M, Gauge> ? "gauge" : "histogram"),
      bounds_(std::move(bounds)) {}

template <class M>
M& Family<M>::with(std::span<const std::string_view> values) {
  std::string key = label_key(values);
  std::lock_guard lock(mu_);
  for (Child& c : children_)
    if (c.labels == key) return *c.metric;
  if constexpr (std::is_same_v<M, Histogram>)
    children_.push_back({std::move(key), std::make_unique<Histogram>(bounds_)});
  else
    children_.push_back({std::move(key), std::make_unique<M>()});
  return *children_.back().metric;
}

template <class M>
void Family<M>::render_samples(std::string& out) const {
  for (const Child& c : children_) {
    if constexpr (std::is_same_v<M, Histogram>) {
      Histogram::Snapshot snap = c.metric->snapshot();
      const std::vector<double>& bounds = c.metric->bounds();
      std::string le;
      for (size_t b = 0; b <= bounds.size(); ++b) {
        le = "le=\"";
        if (b < bounds.size()) {
          char buf[kMaxFloatChars + 8];
          le.append(buf, size_t(write_prom_value(buf, bounds[b]) - buf));
        } else {
          le += "+Inf";
        }
        le += '"';
        sample(out, name_, "_bucket", c.labels, le, snap.cumulative[b]);
      }
      sample(out, name_, "_sum", c.labels, "", snap.sum);
      sample(out, name_, "_count", c.labels, "", snap.cumulative.back());
    } else {
      sample(out, name_, "", c.labels, "", c.metric->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class M>
Family<M>& Registry::add(std::string name, std::string help, std::vector<std::string> labels,
                         std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    auto* same = dynamic_cast<Family<M>*>(f.get());
    if (!same || f->label_names() != labels)
      metrics_bug("metric '" + name + "' registered twice with another type or labels");
    return *same;
  }
  auto fam = std::make_unique<Family<M>>(std::move(name), std::move(help), std::move(labels),
                                         std::move(bounds));
  Family<M>& ref = *fam;
  families_.push_back(std::move(fam));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  return add<Counter>(std::move(name), std::move(help), std::move(labels), {});
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return add<Gauge>(std::move(name), std::move(help), std::move(labels), {});
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                     std::span<const double> bounds) {
  check_bounds(bounds);  // at registration, not at the first with()
  return add<Histogram>(std::move(name), std::move(help), std::move(labels),
                        std::vector<double>(bounds.begin(), bounds.end()));
}

std::string Registry::render() const {
  std::string out;
  out.reserve(16384);
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) f->render(out);
  }
  if (process_metrics_) render_process(out);
  return out;
}

}  // namespace torchless::serve
