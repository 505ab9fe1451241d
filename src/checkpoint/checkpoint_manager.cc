// CheckpointManager (checkpoint.h): a directory of step-NNNNNNNN-<UTC>/ versions, each built in
// a .tmp-* directory (checkpoint.pt through the torch writer, then meta.json, both atomic and
// fsynced) and committed by one rename plus an fsync of the parent. Removal goes the other
// way: rename to .tmp-*, then delete, so a half-deleted version is never listed.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/atomic_file.h"
#include "core/check.h"
#include "torchless/checkpoint.h"

namespace torchless {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFile = "checkpoint.pt";
constexpr const char* kMeta = "meta.json";
constexpr const char* kTmp = ".tmp-";

[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err) {
  fail(Error(Error::Code::kIo, what + ": " + std::strerror(err)).path(path));
}

std::string utc(std::time_t t, const char* format) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// meta.json of `dir/name`, or nullopt when the entry is not a complete checkpoint.
std::optional<CheckpointInfo> read_entry(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  struct stat st {};
  if (::stat((base + "/" + kFile).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string text;
  {
    std::FILE* f = std::fopen((base + "/" + kMeta).c_str(), "rb");
    if (!f) return std::nullopt;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (1u << 20)) text.append(buf, n);
    std::fclose(f);
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) return std::nullopt;
  CheckpointInfo info;
  info.name = name;
  info.path = base + "/" + kFile;
  info.step = j["step"].get<int64_t>();
  if (j.contains("epoch") && j["epoch"].is_number_integer()) info.epoch = j["epoch"].get<int64_t>();
  if (j.contains("metrics") && j["metrics"].is_object())
    for (const auto& [k, v] : j["metrics"].items())
      if (v.is_number()) info.metrics[k] = v.get<double>();
  if (j.contains("created_at") && j["created_at"].is_string()) info.created_at = j["created_at"].get<std::string>();
  if (j.contains("torchless_version") && j["torchless_version"].is_string())
    info.torchless_version = j["torchless_version"].get<std::string>();
  return info;
}

std::vector<CheckpointInfo> scan(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) fail(Error(Error::Code::kIo, "cannot list the checkpoint directory: " + ec.message()).path(dir));
  std::vector<CheckpointInfo> out;
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("step-")) continue;
    if (auto info = read_entry(dir, name)) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.step != b.step ? a.step < b.step : a.name < b.name;
  });
  return out;
}

// Where a removed version waits to be deleted: out of the listing, removed by the next open()
// if the deletion does not finish.
std::string doomed_path(const std::string& dir, const std::string& name) { return dir + "/" + kTmp + "del-" + name; }

// The names the policy keeps among `all` (sorted by step).
std::set<std::string> kept(const std::vector<CheckpointInfo>& all, const RetentionPolicy& p) {
  std::set<std::string> keep;
  if (all.empty()) return keep;
  const bool any_rule = p.keep_last || p.keep_every || !p.best_metric.empty();
  for (size_t i = 0; i < all.size(); ++i) {
    const CheckpointInfo& c = all[i];
    if (!any_rule || i + 1 == all.size() || (p.keep_last && i + p.keep_last >= all.size()) ||
        (p.keep_every > 0 && c.step % p.keep_every == 0))
      keep.insert(c.name);
  }
  if (!p.best_metric.empty()) {
    std::vector<const CheckpointInfo*> scored;
    for (const auto& c : all)
      if (c.metrics.count(p.best_metric)) scored.push_back(&c);
    std::stable_sort(scored.begin(), scored.end(), [&](const CheckpointInfo* a, const CheckpointInfo* b) {
      const double x = a->metrics.at(p.best_metric), y = b->metrics.at(p.best_metric);
      return p.higher_is_better ? x > y : x < y;
    });
    for (size_t i = 0; i < scored.size() && i < p.keep_best; ++i) keep.insert(scored[i]->name);
  }
  return keep;
}

}  // namespace

struct CheckpointManager::Impl {
  std::string dir;
  CheckpointOptions options;
  int lock_fd = -1;

  // Asynchronous saves: one worker, a bounded queue, the first error kept for the caller.
  struct Job {
    Value checkpoint;
    SaveInfo info;
  };
  std::mutex io_mu;  // held while the directory changes: one save or prune at a time
  std::mutex mu;     // the queue and the state below
  std::condition_variable changed;
  std::deque<Job> queue;
  bool busy = false, stopping = false;
  std::set<int64_t> pending_steps;
  std::optional<Error> error;
  std::thread worker;

  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  void write(const Value& checkpoint, const SaveInfo& info) {
    const std::time_t now = std::time(nullptr);
    char step[32];
    std::snprintf(step, sizeof step, "step-%08lld-", static_cast<long long>(info.step));
    const std::string name = step + utc(now, "%Y%m%dT%H%M%SZ");
    std::string tmp = dir + "/" + kTmp + name + "-XXXXXX";
    if (!::mkdtemp(tmp.data())) io_fail("cannot create a temporary checkpoint directory", dir, errno);
    try {
      unwrap(torchless::save(checkpoint, tmp + "/" + kFile, options.save));
      json meta = {{"step", info.step},
                   {"metrics", info.metrics},
                   {"created_at", utc(now, "%Y-%m-%dT%H:%M:%SZ")},
                   {"torchless_version", TORCHLESS_VERSION},
                   {"file", kFile}};
      if (info.epoch) meta["epoch"] = *info.epoch;
      const std::string text = meta.dump(2) + "\n";
      AtomicFile f(tmp + "/" + kMeta);
      f.write(text.data(), text.size());
      f.commit();
      if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0)
        io_fail("cannot commit checkpoint " + name, dir + "/" + name, errno);
    } catch (...) {
      std::error_code ec;
      fs::remove_all(tmp, ec);
      throw;
    }
    fsync_dir(dir, dir + "/" + name);
  }

  std::vector<CheckpointInfo> prune() {
    const std::vector<CheckpointInfo> all = scan(dir);
    const std::set<std::string> keep = kept(all, options.retention);
    // Out of the listing first (a rename each, one fsync for all), then deleted; errors while
    // deleting are ignored, since a .tmp-* entry is never listed.
    std::vector<CheckpointInfo> removed;
    for (const auto& c : all)
      if (!keep.count(c.name)) {
        if (::rename((dir + "/" + c.name).c_str(), doomed_path(dir, c.name).c_str()) != 0)
          io_fail("cannot remove checkpoint " + c.name, dir + "/" + c.name, errno);
        removed.push_back(c);
      }
    if (removed.empty()) return removed;
    fsync_dir(dir, dir);
    std::error_code ec;
    for (const auto& c : removed) fs::remove_all(doomed_path(dir, c.name), ec);
    return removed;
  }

  void save_now(const Value& checkpoint, const SaveInfo& info) {
    std::lock_guard<std::mutex> io(io_mu);
    write(checkpoint, info);
    prune();
  }

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      changed.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, drained
      Job job = std::move(queue.front());
      queue.pop_front();
      busy = true;
      lock.unlock();
      std::optional<Error> failed;
      try {
        save_now(job.checkpoint, job.info);
      } catch (Error& e) {
        failed = std::move(e);
      } catch (const std::exception& e) {
        failed = Error(Error::Code::kInternal, e.what());
      }
      lock.lock();
      busy = false;
      pending_steps.erase(job.info.step);
      if (failed && !error) error = std::move(failed);
      changed.notify_all();
    }
  }

  // Takes the first error of the background saves, if any.
  std::optional<Error> take_error() {
    std::optional<Error> e = std::move(error);
    error.reset();
    return e;
  }
};

Result<std::unique_ptr<CheckpointManager>> CheckpointManager::open(const std::string& dir,
                                                                   const CheckpointOptions& options) {
  return guard("checkpoint manager", dir, [&] {
    if (dir.empty()) fail(Error::Code::kInvalidArgument, "empty checkpoint directory name");
    if (options.async && options.max_pending == 0) fail(Error::Code::kInvalidArgument, "max_pending must be at least 1");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(Error(Error::Code::kIo, "cannot create the checkpoint directory: " + ec.message()).path(dir));
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->options = options;
    const std::string lock = dir + "/.lock";
    impl->lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (impl->lock_fd < 0) io_fail("cannot create the lock file", lock, errno);
    if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        fail(Error(Error::Code::kInvalidArgument, "another CheckpointManager is using this directory").path(dir));
      io_fail("cannot lock the checkpoint directory", lock, errno);
    }
    // Leftovers of interrupted saves and removals: ours to clean, since we hold the lock.
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename().string().starts_with(kTmp)) fs::remove_all(e.path(), ec);
    std::unique_ptr<CheckpointManager> m(new CheckpointManager(std::move(impl)));
    if (options.async) m->impl_->worker = std::thread([p = m->impl_.get()] { p->run(); });
    return m;
  });
}

CheckpointManager::CheckpointManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CheckpointManager::~CheckpointManager() {
  if (impl_->worker.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->stopping = true;
    }
    impl_->changed.notify_all();
    impl_->worker.join();
  }
  if (impl_->error)
    std::cerr << "torchless: error [" << code_name(impl_->error->code()) << "]: asynchronous checkpoint save failed: "
              << impl_->error->to_string() << "\n";
}

Status CheckpointManager::save(const Value& checkpoint, const SaveInfo& info) {
  return guard("checkpoint manager", impl_->dir, [&] {
    if (info.step < 0) fail(Error::Code::kInvalidArgument, "negative step " + std::to_string(info.step));
    Impl& m = *impl_;
    std::unique_lock<std::mutex> lock(m.mu);
    if (auto e = m.take_error()) throw std::move(*e);
    const auto existing = scan(m.dir);
    if (m.pending_steps.count(info.step) ||
        std::any_of(existing.begin(), existing.end(), [&](const auto& c) { return c.step == info.step; }))
      fail(Error::Code::kInvalidArgument, "a checkpoint of step " + std::to_string(info.step) + " already exists");
    if (!m.options.async) {
      m.save_now(checkpoint, info);
      return;
    }
    // Backpressure: wait for room in the queue.
    m.changed.wait(lock, [&] { return m.queue.size() < m.options.max_pending; });
    m.pending_steps.insert(info.step);
    m.queue.push_back({checkpoint, info});
    m.changed.notify_all();
  });
}

Status CheckpointManager::wait() {
  return guard("checkpoint manager", impl_->dir, [&] {
    Impl& m = *impl_;
    std::unique_lock<std::mutex> lock(m.mu);
    m.changed.wait(lock, [&] { return m.queue.empty() && !m.busy; });
    if (auto e = m.take_error()) throw std::move(*e);
  });
}

Result<std::vector<CheckpointInfo>> CheckpointManager::list() const { return list_checkpoints(impl_->dir); }

Result<std::optional<CheckpointInfo>> CheckpointManager::latest() const {
  auto all = list();
  if (!all) return std::move(all).error();
  if (all->empty()) return std::optional<CheckpointInfo>();
  return std::optional<CheckpointInfo>(all->back());
}

Result<std::vector<CheckpointInfo>> CheckpointManager::prune() {
  return guard("checkpoint manager", impl_->dir, [&] {
    std::lock_guard<std::mutex> io(impl_->io_mu);  // not while a background save writes
    return impl_->prune();
  });
}

const std::string& CheckpointManager::dir() const { return impl_->dir; }

Result<std::vector<CheckpointInfo>> list_checkpoints(const std::string& dir) {
  return guard("checkpoint list", dir, [&] { return scan(dir); });
}

}  // namespace torchless
