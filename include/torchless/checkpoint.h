// torchless/checkpoint.h — checkpoints of a training run: a directory of versions, atomic
// commits, `latest`, retention, asynchronous saves; and Stateful user objects.
//
//   auto mgr = torchless::CheckpointManager::open("runs/exp1", {.retention = {.keep_last = 3}});
//   for (int epoch = 0; epoch < n; ++epoch) {
//     train_one_epoch();
//     Value ckpt = Value::dict();                    // what the PyTorch tutorials save
//     ...  // "epoch", "model_state_dict", "optimizer_state_dict", "loss"
//     mgr->save(ckpt, {.step = epoch, .epoch = epoch, .metrics = {{"loss", loss}}});
//   }
//   mgr->wait();                                      // async saves: drained, first error
//
//   if (auto last = mgr->latest(); last.ok() && *last)   // resume
//     Value ckpt = *torchless::load((*last)->path);
//
// Layout: DIR/step-00000012-20261123T221530Z/ holding checkpoint.pt (torch.save's format:
// Python's torch.load reads it) and meta.json; a checkpoint is built in DIR/.tmp-* and
// committed by renaming the directory (after fsyncing both files; the parent directory is
// fsynced after the rename), so a crash at any moment leaves either the previous set of
// checkpoints or the new one complete, never a partial one under a committed name.
// One manager per directory at a time (an advisory lock on DIR/.lock); stale .tmp-* entries
// of crashed runs are removed when a manager opens the directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "torchless/error.h"
#include "torchless/save.h"
#include "torchless/value.h"

namespace torchless {

// What meta.json records about one checkpoint.
struct CheckpointInfo {
  std::string name;        // "step-00000012-20261123T221530Z"
  std::string path;        // DIR/<name>/checkpoint.pt, the file torch.load reads
  int64_t step = 0;        // the caller's counter (global step or epoch); orders checkpoints
  std::optional<int64_t> epoch;
  std::map<std::string, double> metrics;  // e.g. {"loss": 0.031, "val_acc": 0.97}
  std::string created_at;  // UTC, ISO 8601: "2026-11-23T22:15:30Z"
  std::string torchless_version;
};

// Which checkpoints survive a save (and prune()). A checkpoint is kept when any rule keeps it;
// all zero / empty keeps everything. The newest checkpoint is always kept.
struct RetentionPolicy {
  size_t keep_last = 0;     // the N newest (by step)
  int64_t keep_every = 0;   // every checkpoint whose step is a multiple of K
  std::string best_metric;  // the keep_best best by this metric ("" = no such rule)
  bool higher_is_better = false;
  size_t keep_best = 1;
};

struct CheckpointOptions {
  RetentionPolicy retention;
  // Save on a background thread: save() copies nothing but the Value handles (tensors are
  // shared, so the caller must not modify them in place until the save completes — clone what
  // training will overwrite), queues the job and returns; at most max_pending jobs wait, then
  // save() blocks (backpressure). Errors surface from the next save(), wait() or the destructor
  // (logged to stderr there).
  bool async = false;
  size_t max_pending = 2;
  SaveOptions save;  // options of the torch writer (progress, warn)
};

// The metadata a save records besides the checkpoint itself.
struct SaveInfo {
  int64_t step = 0;
  std::optional<int64_t> epoch;
  std::map<std::string, double> metrics;
};

class CheckpointManager {
 public:
  // Opens (creating it and its parents if needed) a checkpoint directory. kIo naming the
  // directory when it cannot be created or written; kInvalidArgument when another manager
  // holds it.
  static Result<std::unique_ptr<CheckpointManager>> open(const std::string& dir, const CheckpointOptions& options = {});
  ~CheckpointManager();  // drains the queue (waits for pending saves)

  // Writes `checkpoint` (any Value tree save() accepts) as a new version, then applies the
  // retention policy. A step already present is kInvalidArgument. A full disk or a read-only
  // directory gives kIo naming the path, and every earlier checkpoint stays intact.
  Status save(const Value& checkpoint, const SaveInfo& info);
  // Blocks until every queued save is done; the first error since the last call, if any.
  Status wait();

  // Committed checkpoints, oldest first (by step). Entries without a valid meta.json are skipped.
  Result<std::vector<CheckpointInfo>> list() const;
  // The newest committed checkpoint, or nullopt for an empty directory.
  Result<std::optional<CheckpointInfo>> latest() const;
  // Applies the retention policy now (also done after every save); returns the removed ones.
  Result<std::vector<CheckpointInfo>> prune();

  const std::string& dir() const;

 private:
  struct Impl;
  explicit CheckpointManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The checkpoint list of a directory without taking it over (no lock, nothing removed): for
// `torchless checkpoint list|latest` and readers of another run's directory.
Result<std::vector<CheckpointInfo>> list_checkpoints(const std::string& dir);

// User objects that take part in checkpoints (a data loader position, an EMA, a sampler).
// state_dict() returns a dict Value; load_state_dict() receives one, possibly written by an
// older version of the class: the loader calls migrate() once per version step (v -> v+1)
// before load_state_dict(), and reports missing and unexpected keys instead of failing.
class Stateful {
 public:
  virtual ~Stateful() = default;
  virtual int version() const { return 1; }  // stored as "_version" in the state dict
  virtual Value state_dict() const = 0;
  // Takes what it knows from `state`; keys it does not find keep their current values.
  virtual void load_state_dict(const Value& state) = 0;
  // Rewrites a state dict of version `from` into version from + 1 (default: unchanged).
  virtual void migrate(Value& state, int from) const {}
  // The keys load_state_dict() expects (for the missing / unexpected report); empty = no report.
  virtual std::vector<std::string> keys() const { return {}; }
};

struct LoadReport {
  std::vector<std::string> missing_keys;     // expected but absent: defaults kept
  std::vector<std::string> unexpected_keys;  // present but unknown: ignored
  int from_version = 0;                      // the version found in the state dict
};

// obj.state_dict() with "_version" added.
Value save_stateful(const Stateful& obj);
// Migrates `state` up to obj.version(), loads it, reports keys. A state newer than
// obj.version() or not a dict is kInvalidArgument.
Result<LoadReport> load_stateful(Stateful& obj, const Value& state);

}  // namespace torchless
