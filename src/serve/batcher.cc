#include "serve/batcher.h"

#include <algorithm>
#include <cstring>

namespace torchless::serve {

namespace {

uint64_t micros(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// Rows [row0, row0 + rows) of a tensor whose dimension 0 is the batch: a view, no copy.
Result<Tensor> rows_of(const Tensor& t, int64_t row0, int64_t rows) {
  std::vector<int64_t> shape = t.shape();
  shape[0] = rows;
  return Tensor::make(t.storage(), t.dtype(), std::move(shape), t.strides(),
                      t.storage_offset() + row0 * t.strides()[0]);
}

}  // namespace

std::string batch_key(const std::vector<Tensor>& inputs) {
  std::string key;
  for (const Tensor& t : inputs) {
    key += static_cast<char>(t.dtype());
    for (size_t d = 1; d < t.ndim(); ++d) {
      key += ',';
      key += std::to_string(t.shape()[d]);
    }
    key += ';';
  }
  return key;
}

size_t ModelQueue::pending() const { return pending_.load(std::memory_order_relaxed); }

Scheduler::Scheduler(int workers) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { worker_loop(); });
}

Scheduler::~Scheduler() { stop(); }

ModelQueue* Scheduler::add_queue(const Engine* engine, BatchingConfig config,
                                 std::function<void(const ExecStats&)> on_exec) {
  std::lock_guard lock(mu_);
  queues_.push_back(std::unique_ptr<ModelQueue>(new ModelQueue(engine, std::move(config), std::move(on_exec))));
  return queues_.back().get();
}

Admission Scheduler::submit(ModelQueue* q, std::unique_ptr<Job>& job, bool wake) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Admission::kDraining;
    if (q->jobs_.size() >= q->config_.max_queue_size) return Admission::kFull;
    job->enqueued = Clock::now();
    if (q->config_.queue_timeout_us > 0)
      job->deadline = std::min(job->deadline, job->enqueued + std::chrono::microseconds(q->config_.queue_timeout_us));
    q->jobs_.push_back(std::move(job));
    q->pending_.fetch_add(1, std::memory_order_relaxed);
    ++queued_;
  }
  if (wake) cv_.notify_one();
  return Admission::kQueued;
}

ModelQueue* Scheduler::form_batch(std::vector<std::unique_ptr<Job>>& batch, Clock::time_point& wake) {
  const Clock::time_point now = Clock::now();
  wake = Clock::time_point::max();
  // Jobs whose queue wait expired (503) or whose client has gone away are answered without running.
  for (auto& q : queues_) {
    for (size_t i = 0; i < q->jobs_.size();) {
      const Job& j = *q->jobs_[i];
      const bool canceled = j.canceled && j.canceled->load(std::memory_order_relaxed);
      if (canceled || j.deadline <= now) {
        auto job = std::move(q->jobs_[i]);
        q->jobs_.erase(q->jobs_.begin() + static_cast<ptrdiff_t>(i));
        q->pending_.fetch_sub(1, std::memory_order_relaxed);
        --queued_;
        JobResult r;
        r.status = canceled ? JobStatus::kCanceled : JobStatus::kTimeout;
        r.queue_us = micros(now - job->enqueued);
        job->done(std::move(r));
      } else {
        wake = std::min(wake, q->jobs_[i]->deadline);
        ++i;
      }
      if (i > 64) break;  // deadlines are checked near the head; the rest when they get there
    }
  }
  // Earliest head first, among queues below their instance cap.
  ModelQueue* best = nullptr;
  for (auto& q : queues_) {
    if (q->jobs_.empty() || q->running_ >= q->config_.instances) continue;
    if (!best || q->jobs_.front()->enqueued < best->jobs_.front()->enqueued) best = q.get();
  }
  if (!best) return nullptr;
  ModelQueue& q = *best;
  const Job& head = *q.jobs_.front();
  const int64_t max_rows = std::max(1, q.config_.max_batch_size);
  // Collect jobs of the head's key that fit, scanning at most 4 x max_batch_size entries.
  std::vector<size_t> take{0};
  int64_t rows = head.rows;
  bool more_of_key = false;
  const size_t scan = std::min(q.jobs_.size(), static_cast<size_t>(4 * max_rows));
  if (q.config_.max_batch_size > 0) {
    for (size_t i = 1; i < scan && rows < max_rows; ++i) {
      const Job& j = *q.jobs_[i];
      if (j.key != head.key) continue;
      if (rows + j.rows > max_rows) {
        more_of_key = true;
        break;
      }
      take.push_back(i);
      rows += j.rows;
    }
  }
  const bool full = rows >= max_rows || more_of_key;
  const auto delay = std::chrono::microseconds(q.config_.max_queue_delay_us);
  const bool expired = q.config_.max_queue_delay_us == 0 || now >= head.enqueued + delay;
  bool preferred = false;
  for (int p : q.config_.preferred_batch_sizes)
    if (rows == p) preferred = true;
  if (!(full || expired || preferred || draining_)) {
    wake = std::min(wake, head.enqueued + delay);
    return nullptr;
  }
  for (size_t k = take.size(); k-- > 0;) {
    batch.push_back(std::move(q.jobs_[take[k]]));
    q.jobs_.erase(q.jobs_.begin() + static_cast<ptrdiff_t>(take[k]));
  }
  std::reverse(batch.begin(), batch.end());
  q.pending_.fetch_sub(batch.size(), std::memory_order_relaxed);
  queued_ -= batch.size();
  ++q.running_;
  ++running_;
  return best;
}

void Scheduler::worker_loop() {
  std::vector<std::byte> gather;  // this worker's batch buffer, reused
  std::vector<std::unique_ptr<Job>> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_ && queued_ == 0) return;
    Clock::time_point wake;
    ModelQueue* q = form_batch(batch, wake);
    if (!q) {
      if (stopping_ && queued_ == 0) return;
      if (wake == Clock::time_point::max())
        cv_.wait(lock);
      else
        cv_.wait_until(lock, wake);
      continue;
    }
    // More queued work (another model, or more than one batch): wake another worker for it.
    if (queued_ > 0) cv_.notify_one();
    lock.unlock();
    execute(q, batch, gather);
    batch.clear();
    lock.lock();
    --q->running_;
    --running_;
    if (running_ == 0 && queued_ == 0) idle_cv_.notify_all();
    // Another batch of this queue may now be allowed (instances cap).
    if (queued_ > 0) cv_.notify_one();
  }
}

void Scheduler::execute(ModelQueue* q, std::vector<std::unique_ptr<Job>>& batch, std::vector<std::byte>& gather) {
  const Clock::time_point start = Clock::now();
  const Engine& engine = *q->engine_;
  const auto& infos = engine.inputs();
  int64_t total = 0;
  for (auto& j : batch) total += j->rows;
  ExecStats stats;
  stats.rows = static_cast<int>(total);
  stats.jobs = static_cast<int>(batch.size());

  std::vector<std::pair<std::string, Tensor>> feeds;
  feeds.reserve(infos.size());
  Status gathered;
  if (batch.size() == 1) {
    for (size_t i = 0; i < infos.size(); ++i) feeds.emplace_back(infos[i].name, batch[0]->inputs[i]);
  } else {
    // One contiguous buffer holds every input of the batch, one memcpy per job and input.
    size_t bytes = 0;
    for (size_t i = 0; i < infos.size(); ++i) {
      const Tensor& t0 = batch[0]->inputs[i];
      bytes += static_cast<size_t>(total) * (t0.nbytes() / std::max<int64_t>(1, t0.shape()[0]));
      bytes = (bytes + 63) & ~size_t{63};
    }
    if (gather.size() < bytes) gather.resize(bytes);
    size_t at = 0;
    for (size_t i = 0; i < infos.size() && gathered.ok(); ++i) {
      const Tensor& t0 = batch[0]->inputs[i];
      const size_t row_bytes = t0.nbytes() / std::max<int64_t>(1, t0.shape()[0]);
      const size_t begin = at;
      for (auto& j : batch) {
        const Tensor& t = j->inputs[i];
        std::memcpy(gather.data() + at, t.data(), t.nbytes());
        at += t.nbytes();
      }
      stats.copy_bytes += at - begin;
      std::vector<int64_t> shape = t0.shape();
      shape[0] = total;
      auto storage = Storage::wrap(gather.data() + begin, static_cast<size_t>(total) * row_bytes, nullptr);
      auto t = Tensor::contiguous_over(storage, t0.dtype(), std::move(shape));
      if (!t) {
        gathered = t.error();
        break;
      }
      feeds.emplace_back(infos[i].name, std::move(t).value());
      at = (at + 63) & ~size_t{63};
    }
  }
  const Clock::time_point run_start = Clock::now();
  Result<std::vector<Tensor>> out = gathered.ok() ? engine.run(feeds) : Result<std::vector<Tensor>>(gathered.error());
  const Clock::time_point run_end = Clock::now();
  stats.infer_us = micros(run_end - run_start);
  q->on_exec_(stats);

  int64_t row0 = 0;
  for (auto& j : batch) {
    JobResult r;
    r.queue_us = micros(start - j->enqueued);
    r.compute_us = stats.infer_us;
    r.batch_rows = stats.rows;
    if (!out) {
      r.status = JobStatus::kBackend;
      r.error = out.error().to_string();
    } else if (batch.size() == 1) {
      r.outputs = out.value();
    } else {
      for (const Tensor& o : out.value()) {
        if (o.ndim() == 0 || o.shape()[0] != total) {
          r.status = JobStatus::kBackend;
          r.error = "an output has no batch dimension; this model cannot batch (set max_batch_size 0)";
          r.outputs.clear();
          break;
        }
        auto v = rows_of(o, row0, j->rows);
        if (!v) {
          r.status = JobStatus::kBackend;
          r.error = v.error().to_string();
          break;
        }
        r.outputs.push_back(std::move(v).value());
      }
    }
    row0 += j->rows;
    j->done(std::move(r));
  }
}

void Scheduler::drain() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
}

bool Scheduler::wait_idle(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [this] { return running_ == 0 && queued_ == 0; });
}

void Scheduler::fail_queued() {
  std::vector<std::unique_ptr<Job>> failed;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& q : queues_) {
      for (auto& j : q->jobs_) failed.push_back(std::move(j));
      q->jobs_.clear();
      q->pending_.store(0);
    }
    queued_ = 0;
    if (running_ == 0) idle_cv_.notify_all();
  }
  for (auto& j : failed) {
    JobResult r;
    r.status = JobStatus::kDraining;
    r.queue_us = micros(Clock::now() - j->enqueued);
    j->done(std::move(r));
  }
}

void Scheduler::stop() {
  if (workers_.empty()) return;
  fail_queued();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    draining_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

}  // namespace torchless::serve
