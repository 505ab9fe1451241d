// src/serve/batcher.h — dynamic batching (specs/serving.md 5): one queue per model version, a
// pool of inference workers shared by all queues.
//
// Admission (an I/O thread) appends a Job or refuses it at once (queue full: 429; past the
// drain deadline: 503). A free worker serves the queue whose oldest job has waited longest (among those
// below their `instances` cap), takes jobs of the head's batch key in FIFO order while the
// rows fit `max_batch_size`, and launches when the batch is full, has reached a preferred
// size with nothing more of its key queued, the head's delay has expired, or the server is
// draining. With delay 0 this is work-conserving: batches grow only while workers are busy.
// A batch of one runs on the job's own tensors; larger ones are gathered with one memcpy per
// job and input into the worker's reused buffer. Outputs are views at row offsets into the
// batch's output tensors. Jobs whose queue wait expired, or whose client has gone away, are
// answered without running (kTimeout, kCanceled).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "torchless/engine.h"
#include "torchless/error.h"
#include "torchless/tensor.h"

namespace torchless::serve {

using Clock = std::chrono::steady_clock;

// What happened to a job. kOk carries the outputs; the others say why it did not run or failed.
enum class JobStatus { kOk, kTimeout, kCanceled, kDraining, kBackend };

struct JobResult {
  JobStatus status = JobStatus::kOk;
  std::string error;             // kBackend: the engine's message
  std::vector<Tensor> outputs;   // this job's rows of every model output, in model order
  uint64_t queue_us = 0, compute_us = 0;
  int batch_rows = 0;            // rows of the execution this job was part of
};

// One admitted request: its inputs in the model's input order, dimension 0 = rows.
struct Job {
  std::vector<Tensor> inputs;
  int64_t rows = 1;
  std::string key;                             // batch_key(inputs)
  Clock::time_point enqueued;
  Clock::time_point deadline = Clock::time_point::max();  // queue wait allowed
  std::shared_ptr<const std::atomic<bool>> canceled;      // set when the client has gone away
  std::function<void(JobResult&&)> done;      // called exactly once, on a worker thread
};

// The datatype and per-row shape of every input: jobs with equal keys may share an execution.
std::string batch_key(const std::vector<Tensor>& inputs);

struct BatchingConfig {
  int max_batch_size = 0;                 // 0: no batching (each job runs alone)
  uint64_t max_queue_delay_us = 0;
  std::vector<int> preferred_batch_sizes;
  size_t max_queue_size = 1024;
  uint64_t queue_timeout_us = 0;          // 0: off
  int instances = 1;                      // concurrent executions of this version
};

// Per-execution observations, reported to the metrics layer.
struct ExecStats {
  int rows = 0;
  int jobs = 0;
  uint64_t infer_us = 0;
  uint64_t copy_bytes = 0;
};

class Scheduler;

// A model version's queue. Created by Scheduler::add_queue; lives as long as the Scheduler.
class ModelQueue {
 public:
  const BatchingConfig& config() const { return config_; }
  size_t pending() const;  // queued, not yet executing

 private:
  friend class Scheduler;
  ModelQueue(const Engine* engine, BatchingConfig config, std::function<void(const ExecStats&)> on_exec)
      : engine_(engine), config_(std::move(config)), on_exec_(std::move(on_exec)) {}
  const Engine* engine_;
  BatchingConfig config_;
  std::function<void(const ExecStats&)> on_exec_;
  std::deque<std::unique_ptr<Job>> jobs_;  // guarded by the scheduler's mutex
  int running_ = 0;
  std::atomic<size_t> pending_{0};
};

enum class Admission { kQueued, kFull, kDraining };

class Scheduler {
 public:
  explicit Scheduler(int workers);
  ~Scheduler();  // stop()

  // Registers a queue for `engine` (which must outlive the Scheduler).
  ModelQueue* add_queue(const Engine* engine, BatchingConfig config, std::function<void(const ExecStats&)> on_exec);
  // Admits a job (sets its `enqueued` time). On kFull / kDraining the job is not taken: the
  // caller still owns it and answers 429 / 503 itself.
  // With wake == false the workers are not woken: the caller calls wake() later (once for a
  // round of submissions).
  Admission submit(ModelQueue* queue, std::unique_ptr<Job>& job, bool wake = true);
  void wake() { cv_.notify_one(); }

  // Draining: batch delays count as expired (requests still read are admitted and served).
  void drain();
  // Waits until nothing is queued or executing, or until `deadline`; true when idle.
  bool wait_idle(Clock::time_point deadline);
  // At the drain deadline: no more admissions, every queued job fails with kDraining.
  void fail_queued();
  // Joins the workers (queued jobs are failed first).
  void stop();

 private:
  void worker_loop();
  // Picks the next batch (jobs removed from their queue) or returns the time to wait until.
  ModelQueue* form_batch(std::vector<std::unique_ptr<Job>>& batch, Clock::time_point& wake);
  void execute(ModelQueue* q, std::vector<std::unique_ptr<Job>>& batch, std::vector<std::byte>& gather);

  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::vector<std::unique_ptr<ModelQueue>> queues_;
  std::vector<std::thread> workers_;
  int running_ = 0;  // executions in progress
  size_t queued_ = 0;
  bool draining_ = false, closed_ = false, stopping_ = false;
};

}  // namespace torchless::serve
