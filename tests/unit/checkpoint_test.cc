// CheckpointManager and Stateful (issue 5): layout and metadata, latest, every retention rule,
// duplicates, the directory lock, leftovers of crashes, asynchronous saves with backpressure and
// errors, a full disk and a read-only directory leaving earlier checkpoints intact.
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "torchless/checkpoint.h"
#include "torchless/load.h"

namespace {

using namespace torchless;
namespace fs = std::filesystem;

std::string scratch(const std::string& name) {
  const std::string dir = std::string(TL_TESTDATA) + "/checkpoint_out/" + name;
  fs::remove_all(dir);
  fs::create_directories(fs::path(dir).parent_path());
  return dir;
}

Tensor filled(int64_t n, float v) {
  Storage s = *Storage::allocate(static_cast<size_t>(n) * 4);
  auto* p = reinterpret_cast<float*>(s.mutable_data());
  for (int64_t i = 0; i < n; ++i) p[i] = v + static_cast<float>(i);
  return *Tensor::contiguous_over(s, DType::kFloat32, {n});
}


// A tutorial-style checkpoint whose content identifies the step.
Value checkpoint_of(int64_t step, int64_t n = 16) {
  Value sd = Value::dict(true);
  sd.as_dict().add("fc.weight", Value::tensor(filled(n, static_cast<float>(step))));
  Value root = Value::dict();
  root.as_dict().add("epoch", Value::integer(step));
  root.as_dict().add("model_state_dict", sd);
  root.as_dict().add("loss", Value::floating(1.0 / static_cast<double>(step + 1)));
  return root;
}

int64_t epoch_in(const std::string& path) {
  auto v = load(path);
  EXPECT_TRUE(v.ok()) << v.error().to_string();
  return v.ok() ? v->as_dict().find("epoch")->as_int() : -1;
}

std::vector<int64_t> steps(const CheckpointManager& m) {
  std::vector<int64_t> out;
  const auto all = m.list();  // (not `*m.list()` in the loop: the temporary would be gone)
  for (const auto& c : *all) out.push_back(c.step);
  return out;
}

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with(".tmp-")) out.push_back(e.path().filename().string());
  return out;
}

std::unique_ptr<CheckpointManager> open_manager(const std::string& dir, const CheckpointOptions& o = {}) {
  auto m = CheckpointManager::open(dir, o);
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return m.ok() ? std::move(*m) : nullptr;
}

}  // namespace

TEST(CheckpointManager, SaveListLatestAndMetadata) {
  const std::string dir = scratch("basic") + "/nested/run";  // parents are created
  auto m = open_manager(dir);
  ASSERT_TRUE(m);
  EXPECT_FALSE(*m->latest());  // empty directory: no checkpoint, not an error
  for (int64_t s : {10, 2, 7}) ASSERT_TRUE(m->save(checkpoint_of(s), {.step = s, .epoch = s / 2, .metrics = {{"loss", 1.0 / s}}}).ok());
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{2, 7, 10}));  // by step, not by time or name
  const auto latest = **m->latest();
  EXPECT_EQ(latest.step, 10);
  EXPECT_EQ(latest.epoch, 5);
  EXPECT_DOUBLE_EQ(latest.metrics.at("loss"), 0.1);
  EXPECT_EQ(latest.torchless_version, "0.1.0");
  EXPECT_TRUE(std::regex_match(latest.name, std::regex(R"(step-00000010-\d{8}T\d{6}Z)"))) << latest.name;
  EXPECT_TRUE(std::regex_match(latest.created_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << latest.created_at;
  EXPECT_EQ(latest.path, dir + "/" + latest.name + "/checkpoint.pt");
  EXPECT_EQ(epoch_in(latest.path), 10);
  auto sd = load_state_dict(latest.path);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ((*sd)[0].first, "fc.weight");
  // list_checkpoints reads the same without the lock.
  EXPECT_EQ(list_checkpoints(dir)->size(), 3u);
  EXPECT_TRUE(leftovers(dir).empty());
}

TEST(CheckpointManager, RetentionRules) {
  auto run = [](const std::string& name, RetentionPolicy p, int n, auto metric) {
    const std::string dir = scratch(name);
    auto m = open_manager(dir, {.retention = p});
    for (int64_t s = 1; s <= n; ++s) EXPECT_TRUE(m->save(checkpoint_of(s, 4), {.step = s, .metrics = {{"val", metric(s)}}}).ok());
    return steps(*m);
  };
  auto flat = [](int64_t) { return 0.0; };
  EXPECT_EQ(run("none", {}, 4, flat), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(run("last", {.keep_last = 2}, 6, flat), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(run("every", {.keep_every = 3}, 7, flat), (std::vector<int64_t>{3, 6, 7}));  // + the newest
  // val is lowest at step 3: kept with the newest; higher_is_better keeps step 6's peak.
  auto v = [](int64_t s) { return static_cast<double>((s - 3) * (s - 3)) - (s == 6 ? 100.0 : 0.0); };
  EXPECT_EQ(run("best_min", {.best_metric = "val"}, 5, [](int64_t s) { return std::abs(s - 3.0); }),
            (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(run("best_max", {.best_metric = "val", .higher_is_better = true, .keep_best = 2}, 7,
                [](int64_t s) { return s == 2 ? 9.0 : s == 4 ? 8.0 : 0.0; }),
            (std::vector<int64_t>{2, 4, 7}));
  // Union: last 1, every 4th, best 1 by min val.
  EXPECT_EQ(run("union", {.keep_last = 1, .keep_every = 4, .best_metric = "val"}, 9, v),
            (std::vector<int64_t>{4, 6, 8, 9}));
  // prune() applies a policy now; removing goes through a .tmp- rename, nothing is left.
  const std::string dir = scratch("prune");
  {
    auto m = open_manager(dir);
    for (int64_t s = 1; s <= 4; ++s) ASSERT_TRUE(m->save(checkpoint_of(s, 4), {.step = s}).ok());
  }
  auto m = open_manager(dir, {.retention = {.keep_last = 1}});
  auto removed = m->prune();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 3u);
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{4}));
  EXPECT_TRUE(leftovers(dir).empty());
}

TEST(CheckpointManager, RefusesDuplicatesNegativeStepsAndASecondManager) {
  const std::string dir = scratch("refusals");
  auto m = open_manager(dir);
  ASSERT_TRUE(m->save(checkpoint_of(1), {.step = 1}).ok());
  auto dup = m->save(checkpoint_of(1), {.step = 1});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Error::Code::kInvalidArgument);
  EXPECT_NE(dup.error().message().find("step 1 already exists"), std::string::npos);
  EXPECT_EQ(m->save(checkpoint_of(1), {.step = -1}).error().code(), Error::Code::kInvalidArgument);
  // Content the torch writer refuses: an error, nothing committed, nothing left over.
  Value bad = Value::dict();
  bad.as_dict().add("s", Value::set({Value::integer(1)}));
  EXPECT_EQ(m->save(bad, {.step = 2}).error().code(), Error::Code::kUnsupported);
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{1}));
  EXPECT_TRUE(leftovers(dir).empty());

  auto second = CheckpointManager::open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Error::Code::kInvalidArgument);
  EXPECT_NE(second.error().message().find("another CheckpointManager"), std::string::npos);
  m.reset();  // the lock goes with the manager
  EXPECT_TRUE(CheckpointManager::open(dir).ok());
}

TEST(CheckpointManager, PartialEntriesAreNeverListedAndLeftoversAreRemoved) {
  const std::string dir = scratch("partial");
  {
    auto m = open_manager(dir);
    ASSERT_TRUE(m->save(checkpoint_of(1), {.step = 1}).ok());
  }
  // What crashes leave: a temporary directory, a version without meta.json, one with a broken
  // meta.json, one without its checkpoint file.
  fs::create_directories(dir + "/.tmp-step-00000002-x-abc");
  std::ofstream(dir + "/.tmp-step-00000002-x-abc/checkpoint.pt") << "partial";
  fs::create_directories(dir + "/step-00000003-20260101T000000Z");
  std::ofstream(dir + "/step-00000003-20260101T000000Z/checkpoint.pt") << "x";
  fs::create_directories(dir + "/step-00000004-20260101T000000Z");
  std::ofstream(dir + "/step-00000004-20260101T000000Z/checkpoint.pt") << "x";
  std::ofstream(dir + "/step-00000004-20260101T000000Z/meta.json") << "{\"step\": 4,";
  fs::create_directories(dir + "/step-00000005-20260101T000000Z");
  std::ofstream(dir + "/step-00000005-20260101T000000Z/meta.json") << "{\"step\": 5}";
  EXPECT_EQ((*list_checkpoints(dir)).back().step, 1);
  auto m = open_manager(dir);
  EXPECT_TRUE(leftovers(dir).empty());
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{1}));
}

TEST(CheckpointManager, AsyncSavesQueueWithBackpressureAndLoseNothing) {
  const std::string dir = scratch("async");
  std::atomic<int> writes_done{0};
  CheckpointOptions o{.async = true, .max_pending = 1};
  // A slow disk: every progress report of the writer sleeps.
  o.save.progress = [&](uint64_t done, uint64_t total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    if (done == total) ++writes_done;
  };
  auto m = open_manager(dir, o);
  std::vector<int> done_when_returned;
  for (int64_t s = 1; s <= 5; ++s) {
    ASSERT_TRUE(m->save(checkpoint_of(s), {.step = s}).ok());
    done_when_returned.push_back(writes_done.load());
  }
  // One job runs and one waits: the third save() cannot return before a write finished.
  EXPECT_GE(done_when_returned[2], 1);
  EXPECT_GE(done_when_returned[4], 3);
  // A step already queued is a duplicate too.
  EXPECT_EQ(m->save(checkpoint_of(5), {.step = 5}).error().code(), Error::Code::kInvalidArgument);
  ASSERT_TRUE(m->wait().ok());
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  const auto all = m->list();
  for (const auto& c : *all) EXPECT_EQ(epoch_in(c.path), c.step);

  // A failing background save surfaces from wait(); later saves work.
  Value bad = Value::dict();
  bad.as_dict().add("s", Value::set({}));
  ASSERT_TRUE(m->save(bad, {.step = 6}).ok());
  auto st = m->wait();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Error::Code::kUnsupported);
  EXPECT_TRUE(m->wait().ok());  // reported once
  ASSERT_TRUE(m->save(checkpoint_of(7), {.step = 7}).ok());
  m.reset();  // the destructor drains the queue
  EXPECT_EQ((*list_checkpoints(dir)).back().step, 7);
  EXPECT_TRUE(leftovers(dir).empty());
}

TEST(CheckpointManager, FullDiskGivesAnIoErrorAndKeepsEarlierCheckpoints) {
  const std::string dir = scratch("full_disk");
  {
    auto m = open_manager(dir);
    ASSERT_TRUE(m->save(checkpoint_of(1), {.step = 1}).ok());
  }
  // The child may write files of at most 64 KiB (RLIMIT_FSIZE: write() fails with EFBIG like a
  // full disk fails with ENOSPC); it saves a 1 MiB checkpoint.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit r{64 << 10, 64 << 10};
    ::setrlimit(RLIMIT_FSIZE, &r);
    auto m = CheckpointManager::open(dir);
    if (!m.ok()) ::_exit(10);
    auto st = (*m)->save(checkpoint_of(2, 1 << 18), {.step = 2});
    if (st.ok()) ::_exit(11);
    if (st.error().code() != Error::Code::kIo) ::_exit(12);
    if (st.error().to_string().find("File too large") == std::string::npos) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: open failed, 11: save succeeded, 12: not kIo, 13: no errno text";
  EXPECT_TRUE(leftovers(dir).empty());
  auto all = *list_checkpoints(dir);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(epoch_in(all[0].path), 1);
}

TEST(CheckpointManager, NoSpaceLeftOnDevice) {
  // A real full filesystem: a 256 KiB tmpfs mounted in a private mount namespace of a child
  // (needs CAP_SYS_ADMIN, which CI's root has; skipped with a note otherwise).
  const std::string dir = scratch("enospc");
  fs::create_directories(dir);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k") != 0)
      ::_exit(77);
    auto m = CheckpointManager::open(dir + "/run");
    if (!m.ok()) ::_exit(10);
    if (!(*m)->save(checkpoint_of(1), {.step = 1}).ok()) ::_exit(11);
    auto st = (*m)->save(checkpoint_of(2, 1 << 17), {.step = 2});  // 512 KiB of tensor
    if (st.ok()) ::_exit(12);
    if (st.error().code() != Error::Code::kIo) ::_exit(13);
    if (st.error().to_string().find("No space left on device") == std::string::npos) ::_exit(14);
    auto all = (*m)->list();
    if (!all.ok() || all->size() != 1 || epoch_in(all->at(0).path) != 1) ::_exit(15);
    if (!leftovers(dir + "/run").empty()) ::_exit(16);
    // Room again (the failed save cleaned up): the next save works.
    if (!(*m)->save(checkpoint_of(3), {.step = 3}).ok()) ::_exit(17);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot mount a tmpfs here (no CAP_SYS_ADMIN)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 open, 11 first save, 12 save succeeded, 13 not kIo, 14 no ENOSPC text, "
                                       "15 earlier checkpoint lost, 16 leftovers, 17 no recovery";
}

TEST(CheckpointManager, ReadOnlyDirectoryGivesAnIoError) {
  const std::string dir = scratch("read_only");
  auto m = open_manager(dir);
  ASSERT_TRUE(m->save(checkpoint_of(1), {.step = 1}).ok());
  // Root ignores permission bits, so the directory is made immutable (chattr +i), which stops
  // root too.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    ::close(fd);
    GTEST_SKIP() << "this filesystem has no immutable flag: " << std::strerror(errno);
  }
  const int immutable = flags | FS_IMMUTABLE_FL;
  if (::ioctl(fd, FS_IOC_SETFLAGS, &immutable) != 0) {
    ::close(fd);
    GTEST_SKIP() << "cannot set the immutable flag here: " << std::strerror(errno);
  }
  auto st = m->save(checkpoint_of(2), {.step = 2});
  ::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  ::close(fd);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Error::Code::kIo);
  EXPECT_NE(st.error().to_string().find(dir), std::string::npos) << st.error().to_string();
  EXPECT_EQ(steps(*m), (std::vector<int64_t>{1}));
  EXPECT_TRUE(leftovers(dir).empty());
}

namespace {

// Version 3 of a counter; version 1 called "count" "n", version 2 had no "label".
class Counter : public Stateful {
 public:
  int64_t count = 0;
  std::string label = "default";
  int version() const override { return 3; }
  Value state_dict() const override {
    Value d = Value::dict();
    d.as_dict().add("count", Value::integer(count));
    d.as_dict().add("label", Value::string(label));
    return d;
  }
  void load_state_dict(const Value& s) override {
    if (const Value* v = s.as_dict().find("count")) count = v->as_int();
    if (const Value* v = s.as_dict().find("label")) label = v->as_string();
  }
  void migrate(Value& s, int from) const override {
    migrations.push_back(from);
    if (from == 1)
      for (auto& kv : s.as_dict().items)
        if (kv.first.as_string() == "n") kv.first = Value::string("count");
  }
  std::vector<std::string> keys() const override { return {"count", "label"}; }
  mutable std::vector<int> migrations;
};

}  // namespace

TEST(Stateful, VersionMigrationAndKeyReport) {
  Counter c;
  c.count = 41;
  c.label = "ema";
  const Value saved = save_stateful(c);
  EXPECT_EQ(saved.as_dict().find("_version")->as_int(), 3);
  Counter d;
  auto r = load_stateful(d, saved);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(d.count, 41);
  EXPECT_EQ(d.label, "ema");
  EXPECT_TRUE(r->missing_keys.empty());
  EXPECT_TRUE(r->unexpected_keys.empty());
  EXPECT_TRUE(d.migrations.empty());

  // A version-1 state: renamed key migrated, the later key missing (default kept), an unknown key.
  Value v1 = Value::dict();
  v1.as_dict().add("n", Value::integer(7));
  v1.as_dict().add("extra", Value::boolean(true));
  v1.as_dict().add("_version", Value::integer(1));
  Counter e;
  r = load_stateful(e, v1);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->from_version, 1);
  EXPECT_EQ(e.migrations, (std::vector<int>{1, 2}));
  EXPECT_EQ(e.count, 7);
  EXPECT_EQ(e.label, "default");
  EXPECT_EQ(r->missing_keys, std::vector<std::string>{"label"});
  EXPECT_EQ(r->unexpected_keys, std::vector<std::string>{"extra"});
  EXPECT_EQ(v1.as_dict().items[0].first.as_string(), "n");  // the caller's dict is untouched

  Value v9 = Value::dict();
  v9.as_dict().add("_version", Value::integer(9));
  EXPECT_EQ(load_stateful(e, v9).error().code(), Error::Code::kInvalidArgument);
  EXPECT_EQ(load_stateful(e, Value::list()).error().code(), Error::Code::kInvalidArgument);
}
