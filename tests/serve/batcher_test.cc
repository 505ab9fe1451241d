// The batch scheduler (src/serve/batcher.h) on a real engine: an ONNX model y = x + 1 with a
// dynamic batch, built in memory. Each job must get back exactly its own rows, whatever batch
// it ran in; the formation rules (size cap, batch keys, FIFO, delay, queue bound, queue
// timeout, draining) are observed through the rows each execution had.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>

#include "serve/batcher.h"

namespace torchless::serve {
namespace {

// y = x + 1, x: float [batch, width] (width -1: dynamic too).
Engine plus_one_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("plus_one");
  auto* one = g->add_initializer();
  one->set_name("one");
  one->set_data_type(onnx::TensorProto::FLOAT);
  one->add_float_data(1.0f);
  auto* node = g->add_node();
  node->set_op_type("Add");
  node->add_input("x");
  node->add_input("one");
  node->add_output("y");
  for (auto [vi, name] : {std::pair{g->add_input(), "x"}, std::pair{g->add_output(), "y"}}) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("batch");
    tt->mutable_shape()->add_dim()->set_dim_param("width");
  }
  std::string bytes;
  m.SerializeToString(&bytes);
  auto e = Engine::from_bytes({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().to_string());
  return std::move(e).value();
}

Tensor rows_tensor(int64_t rows, int64_t width, float first) {
  auto s = Storage::allocate(static_cast<size_t>(rows * width) * 4);
  float* p = reinterpret_cast<float*>(s.value().mutable_data());
  for (int64_t i = 0; i < rows * width; ++i) p[i] = first + static_cast<float>(i);
  return Tensor::contiguous_over(std::move(s).value(), DType::kFloat32, {rows, width}).value();
}

struct Harness {
  Engine engine = plus_one_model();
  std::mutex mu;
  std::vector<int> exec_rows;  // rows of each execution, in order
  std::vector<std::future<JobResult>> results;

  ModelQueue* queue(Scheduler& s, BatchingConfig c) {
    return s.add_queue(&engine, c, [this](const ExecStats& st) {
      std::lock_guard lock(mu);
      exec_rows.push_back(st.rows);
    });
  }
  Admission submit(Scheduler& s, ModelQueue* q, int64_t rows, int64_t width, float first) {
    auto job = std::make_unique<Job>();
    job->inputs.push_back(rows_tensor(rows, width, first));
    job->rows = rows;
    job->key = batch_key(job->inputs);
    auto p = std::make_shared<std::promise<JobResult>>();
    results.push_back(p->get_future());
    job->done = [p](JobResult&& r) { p->set_value(std::move(r)); };
    Admission a = s.submit(q, job);
    if (a != Admission::kQueued) results.pop_back();
    return a;
  }
};

// The job's output must be its own input + 1.
void expect_own_rows(const JobResult& r, int64_t rows, int64_t width, float first) {
  ASSERT_EQ(r.status, JobStatus::kOk) << r.error;
  ASSERT_EQ(r.outputs.size(), 1u);
  const Tensor& y = r.outputs[0];
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{rows, width}));
  auto c = y.contiguous().value();
  const float* p = reinterpret_cast<const float*>(c.data());
  for (int64_t i = 0; i < rows * width; ++i) ASSERT_EQ(p[i], first + static_cast<float>(i) + 1.0f) << "element " << i;
}

TEST(Batcher, JobsGetTheirOwnRowsBackFromSharedBatches) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 8;
  c.max_queue_delay_us = 200'000;  // long enough that the jobs below meet in one queue
  ModelQueue* q = h.queue(s, c);
  const int64_t rows[] = {1, 3, 2, 2};
  for (int i = 0; i < 4; ++i) ASSERT_EQ(h.submit(s, q, rows[i], 3, 100.0f * i), Admission::kQueued);
  for (int i = 0; i < 4; ++i) expect_own_rows(h.results[i].get(), rows[i], 3, 100.0f * i);
  // 1 + 3 + 2 + 2 = 8 rows: one execution, full.
  EXPECT_EQ(h.exec_rows, (std::vector<int>{8}));
}

TEST(Batcher, BatchesNeverExceedTheMaximumAndNeverSplitAJob) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 4;
  c.max_queue_delay_us = 200'000;
  ModelQueue* q = h.queue(s, c);
  const int64_t rows[] = {3, 2, 2, 1, 4};
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.submit(s, q, rows[i], 2, 10.0f * i), Admission::kQueued);
  for (int i = 0; i < 5; ++i) expect_own_rows(h.results[i].get(), rows[i], 2, 10.0f * i);
  int total = 0;
  for (int r : h.exec_rows) {
    EXPECT_LE(r, 4);
    total += r;
  }
  EXPECT_EQ(total, 12);
}

TEST(Batcher, DifferentRowShapesNeverShareAnExecution) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 16;
  c.max_queue_delay_us = 100'000;
  ModelQueue* q = h.queue(s, c);
  // Widths alternate 2, 5: two keys; each execution holds one key only, so every answer is right.
  for (int i = 0; i < 6; ++i) ASSERT_EQ(h.submit(s, q, 1, i % 2 ? 5 : 2, 7.0f * i), Admission::kQueued);
  for (int i = 0; i < 6; ++i) expect_own_rows(h.results[i].get(), 1, i % 2 ? 5 : 2, 7.0f * i);
  int total = 0;
  for (int r : h.exec_rows) total += r;
  EXPECT_EQ(total, 6);
  EXPECT_GE(h.exec_rows.size(), 2u);
}

TEST(Batcher, WithoutBatchingEachJobRunsAlone) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 0;
  ModelQueue* q = h.queue(s, c);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.submit(s, q, 1, 4, 1.0f * i), Admission::kQueued);
  for (int i = 0; i < 5; ++i) expect_own_rows(h.results[i].get(), 1, 4, 1.0f * i);
  EXPECT_EQ(h.exec_rows, (std::vector<int>{1, 1, 1, 1, 1}));
}

TEST(Batcher, FullQueueRefusesAtOnceAndDrainingStillServesQueuedJobs) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_us = 5'000'000;  // nothing launches until drain() or the queue fills a batch
  c.max_queue_size = 3;
  ModelQueue* q = h.queue(s, c);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.submit(s, q, 1, 1, 1.0f * i), Admission::kQueued);
  EXPECT_EQ(h.submit(s, q, 1, 1, 9.0f), Admission::kFull);
  EXPECT_EQ(q->pending(), 3u);
  s.drain();  // delays count as expired: the three run now
  for (int i = 0; i < 3; ++i) expect_own_rows(h.results[i].get(), 1, 1, 1.0f * i);
  EXPECT_TRUE(s.wait_idle(Clock::now() + std::chrono::seconds(5)));
  s.fail_queued();  // the drain deadline: admissions end
  EXPECT_EQ(h.submit(s, q, 1, 1, 1.0f), Admission::kDraining);
}

TEST(Batcher, QueueTimeoutAnswersWithoutRunning) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_us = 300'000;  // the batch waits longer than the jobs may
  c.queue_timeout_us = 20'000;
  ModelQueue* q = h.queue(s, c);
  ASSERT_EQ(h.submit(s, q, 1, 1, 0.0f), Admission::kQueued);
  JobResult r = h.results[0].get();
  EXPECT_EQ(r.status, JobStatus::kTimeout);
  EXPECT_GE(r.queue_us, 20'000u);
  EXPECT_TRUE(h.exec_rows.empty());
}

TEST(Batcher, JobsOfClosedConnectionsAreSkipped) {
  Harness h;
  Scheduler s(1);
  BatchingConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_us = 100'000;
  ModelQueue* q = h.queue(s, c);
  auto closed = std::make_shared<std::atomic<bool>>(false);
  auto job = std::make_unique<Job>();
  job->inputs.push_back(rows_tensor(1, 1, 0.0f));
  job->key = batch_key(job->inputs);
  job->canceled = closed;
  std::promise<JobResult> p;
  auto f = p.get_future();
  job->done = [&p](JobResult&& r) { p.set_value(std::move(r)); };
  ASSERT_EQ(s.submit(q, job), Admission::kQueued);
  ASSERT_EQ(h.submit(s, q, 1, 1, 5.0f), Admission::kQueued);
  closed->store(true);  // the client went away while queued
  EXPECT_EQ(f.get().status, JobStatus::kCanceled);
  expect_own_rows(h.results[0].get(), 1, 1, 5.0f);
  EXPECT_EQ(h.exec_rows, (std::vector<int>{1}));
}

TEST(Batcher, StopFailsWhatIsQueued) {
  Harness h;
  auto s = std::make_unique<Scheduler>(1);
  BatchingConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_us = 5'000'000;
  ModelQueue* q = h.queue(*s, c);
  ASSERT_EQ(h.submit(*s, q, 1, 1, 0.0f), Admission::kQueued);
  s->stop();
  EXPECT_EQ(h.results[0].get().status, JobStatus::kDraining);
}

TEST(Batcher, ManyThreadsManyJobs) {
  Harness h;
  Scheduler s(2);
  BatchingConfig c;
  c.max_batch_size = 8;
  ModelQueue* q = h.queue(s, c);
  constexpr int kThreads = 4, kJobs = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kJobs; ++i) {
        const int64_t rows = 1 + (i % 3);
        const float first = static_cast<float>(t * 10000 + i * 10);
        auto job = std::make_unique<Job>();
        job->inputs.push_back(rows_tensor(rows, 2, first));
        job->rows = rows;
        job->key = batch_key(job->inputs);
        std::promise<JobResult> p;
        auto f = p.get_future();
        job->done = [&p](JobResult&& r) { p.set_value(std::move(r)); };
        if (s.submit(q, job) != Admission::kQueued) {
          ++wrong;
          continue;
        }
        JobResult r = f.get();
        if (r.status != JobStatus::kOk) {
          ++wrong;
          continue;
        }
        const Tensor y_t = r.outputs.at(0).contiguous().value();
        const float* y = reinterpret_cast<const float*>(y_t.data());
        for (int64_t k = 0; k < rows * 2; ++k)
          if (y[k] != first + static_cast<float>(k) + 1.0f) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace torchless::serve
