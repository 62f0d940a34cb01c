#include "pipeline/queue/persistent_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "absl/synchronization/notification.h"
#include "common/fault_injection_env.h"
#include "pipeline/queue/fake_sender_testutil.h"
#include "pipeline/queue/queued_exporter.h"
#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

ExportRequest Request(const std::string& body, uint64_t spans = 1) {
  ExportRequest r;
  r.tenant = "tenant-a";
  r.spans = spans;
  r.body = std::make_shared<const std::string>(body);
  return r;
}

class PersistentQueueTest : public ::testing::Test {
 protected:
  PersistentQueueTest() {
    std::string tmpl = ::testing::TempDir() + "strand_pq.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    root_ = tmpl;
    dir_ = root_ + "/queue";
  }
  ~PersistentQueueTest() override {
    queue_.reset();
    std::filesystem::remove_all(root_);
  }

  void Open(uint64_t capacity = 100, uint64_t max_segment_bytes = 32 << 20) {
    queue_.reset();
    auto q = PersistentQueue::OpenDir(env_, dir_, capacity, /*fsync=*/true, max_segment_bytes);
    ASSERT_TRUE(q.ok()) << q.status();
    queue_ = std::move(*q);
  }

  // Offers a request and waits for the queue's answer.
  absl::Status Offer(const std::string& body) {
    absl::Notification answered;
    absl::Status result;
    queue_->Offer(Request(body), nullptr, [&](absl::Status s) {
      result = std::move(s);
      answered.Notify();
    });
    answered.WaitForNotification();
    return result;
  }

  // Pops what is ready (without waiting long); bodies in order, with their ids.
  std::vector<std::pair<uint64_t, std::string>> PopAll() {
    std::vector<std::pair<uint64_t, std::string>> out;
    while (auto r = queue_->Pop(*Clock::Real(), absl::Milliseconds(20))) {
      out.emplace_back(r->id, *r->request.body);
    }
    return out;
  }
  static std::vector<std::string> Bodies(const std::vector<std::pair<uint64_t, std::string>>& v) {
    std::vector<std::string> out;
    for (const auto& [id, body] : v) out.push_back(body);
    return out;
  }

  // The machine dies: unsynced data is lost, the queue object is gone. Then it reopens.
  void PowerCutAndReopen(uint64_t max_segment_bytes = 32 << 20) {
    env_.SetFilesystemActive(false);
    queue_.reset();
    ASSERT_TRUE(env_.DropUnsyncedData().ok());
    env_.SetFilesystemActive(true);
    Open(100, max_segment_bytes);
  }

  std::vector<std::string> Files(const std::string& ext) {
    std::vector<std::string> out;
    auto names = Env::Default()->GetChildren(dir_);
    if (!names.ok()) return out;
    for (const auto& n : *names) {
      if (n.size() > ext.size() && n.substr(n.size() - ext.size()) == ext) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_;
  std::string dir_;
  FaultInjectionEnv env_{*Env::Default()};
  std::unique_ptr<PersistentQueue> queue_;
};

TEST_F(PersistentQueueTest, AcceptedRequestsSurviveAPowerCut) {
  Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Offer("req" + std::to_string(i)).ok());
  PowerCutAndReopen();
  EXPECT_EQ(queue_->recovered(), 5u);
  EXPECT_EQ(queue_->Size(), 5u);
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"req0", "req1", "req2", "req3", "req4"}));
}

// Requests that arrive while the writer syncs are written together, and with small
// segments one batch spans several segment files.
class SegmentRotationTest : public PersistentQueueTest {
 protected:
  // Offers req0, holds its sync, offers req1..req3 meanwhile, then lets the writer go;
  // returns when all four are accepted.
  void OfferWhileTheWriterSyncs() {
    Open(100, /*max_segment_bytes=*/1);  // one record per segment
    absl::Notification in_sync, release;
    std::atomic<bool> first{true};
    env_.SetBeforeSyncHook([&] {
      if (!first.exchange(false)) return;
      in_sync.Notify();
      release.WaitForNotification();
    });
    std::vector<absl::Status> answers(4, absl::UnknownError("no answer"));
    absl::Mutex mu;
    int answered = 0;
    auto offer = [&](int i) {
      queue_->Offer(Request("req" + std::to_string(i)), nullptr, [&, i](absl::Status s) {
        absl::MutexLock lock(&mu);
        answers[i] = std::move(s);
        ++answered;
      });
    };
    offer(0);
    in_sync.WaitForNotification();
    for (int i = 1; i < 4; ++i) offer(i);
    release.Notify();
    {
      absl::MutexLock lock(&mu);
      auto all = [&] { return answered == 4; };
      mu.Await(absl::Condition(&all));
    }
    env_.SetBeforeSyncHook(nullptr);
    for (const auto& s : answers) ASSERT_TRUE(s.ok()) << s;
  }
};

TEST_F(SegmentRotationTest, EveryRequestOfABatchSpanningSegmentsIsReadable) {
  OfferWhileTheWriterSyncs();
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"req0", "req1", "req2", "req3"}));
}

TEST_F(SegmentRotationTest, EveryRequestOfABatchSpanningSegmentsSurvivesAPowerCut) {
  OfferWhileTheWriterSyncs();
  PowerCutAndReopen(/*max_segment_bytes=*/1);
  EXPECT_EQ(queue_->recovered(), 4u);
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"req0", "req1", "req2", "req3"}));
}

TEST_F(PersistentQueueTest, AcknowledgedRequestsAreNotOfferedAfterRestart) {
  Open();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Offer("req" + std::to_string(i)).ok());
  auto popped = PopAll();
  ASSERT_EQ(popped.size(), 4u);
  queue_->Ack(popped[0].first);
  queue_->Ack(popped[2].first);
  EXPECT_EQ(queue_->Size(), 2u);
  Open();  // a clean restart
  EXPECT_EQ(queue_->recovered(), 2u);
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"req1", "req3"}));
}

TEST_F(PersistentQueueTest, SegmentsAreDeletedOnceEveryRequestIsAcknowledged) {
  Open(100, /*max_segment_bytes=*/1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Offer("req" + std::to_string(i)).ok());
  EXPECT_EQ(Files(".seg").size(), 3u);
  auto popped = PopAll();
  ASSERT_EQ(popped.size(), 3u);
  queue_->Ack(popped[0].first);
  EXPECT_EQ(Files(".seg").size(), 2u);
  queue_->Ack(popped[1].first);
  queue_->Ack(popped[2].first);
  // The segment being written stays until the writer moves on.
  EXPECT_EQ(Files(".seg").size(), 1u);
  EXPECT_LE(Files(".ack").size(), 1u);
  Open(100, 1);
  EXPECT_EQ(queue_->recovered(), 0u);
  EXPECT_TRUE(Files(".seg").empty());
  EXPECT_TRUE(Files(".ack").empty());
}

TEST_F(PersistentQueueTest, TornTailRecordIsIgnored) {
  Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Offer("request-" + std::to_string(i)).ok());
  queue_.reset();
  const std::vector<std::string> segs = Files(".seg");
  ASSERT_EQ(segs.size(), 1u);
  const std::string path = dir_ + "/" + segs[0];
  auto size = Env::Default()->GetFileSize(path);
  ASSERT_TRUE(size.ok());
  ASSERT_TRUE(Env::Default()->TruncateFile(path, *size - 4).ok());  // the last record, cut
  Open();
  EXPECT_EQ(queue_->recovered(), 2u);
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"request-0", "request-1"}));
  // New requests go to a fresh segment, not after the torn bytes.
  ASSERT_TRUE(Offer("request-3").ok());
  Open();
  EXPECT_EQ(Bodies(PopAll()), (std::vector<std::string>{"request-0", "request-1", "request-3"}));
}

TEST_F(PersistentQueueTest, GarbageAfterTheLastRecordIsIgnored) {
  Open();
  ASSERT_TRUE(Offer("only").ok());
  queue_.reset();
  const std::string path = dir_ + "/" + Files(".seg").at(0);
  auto f = Env::Default()->NewAppendableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(std::string("\x10\x00\x00\x00\x01\x02\x03\x04partial", 15)).ok());
  ASSERT_TRUE((*f)->Close().ok());
  Open();
  EXPECT_EQ(Bodies(PopAll()), std::vector<std::string>{"only"});
}

TEST_F(PersistentQueueTest, CapacityRefusesWithUnavailable) {
  Open(/*capacity=*/2);
  ASSERT_TRUE(Offer("a").ok());
  ASSERT_TRUE(Offer("b").ok());
  EXPECT_TRUE(absl::IsUnavailable(Offer("c")));
  EXPECT_EQ(queue_->Size(), 2u);
  auto r = queue_->Pop(*Clock::Real(), absl::Milliseconds(20));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(absl::IsUnavailable(Offer("c")));  // popped but not acknowledged: still held
  queue_->Ack(r->id);
  EXPECT_TRUE(Offer("c").ok());
  queue_->Close();
  EXPECT_TRUE(absl::IsUnavailable(Offer("d")));
}

TEST_F(PersistentQueueTest, RecordRoundTripKeepsTheBatchPolicy) {
  ExportRequest r = Request(std::string("\0binary\xff body", 13), 7);
  auto policy = std::make_shared<BatchPolicy>();
  policy->send_batch_size = 10;
  policy->send_batch_max_size = 20;
  policy->timeout_nanos = 3'000'000'000;
  policy->metadata_keys = {"x-team", "x-env"};
  policy->metadata_cardinality_limit = 5;
  r.batching = policy;
  r.batch_key = {"payments", ""};
  auto back = PersistentQueue::DecodeRecord(PersistentQueue::EncodeRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->tenant, "tenant-a");
  EXPECT_EQ(back->spans, 7u);
  EXPECT_EQ(*back->body, *r.body);
  EXPECT_EQ(back->batch_key, r.batch_key);
  ASSERT_NE(back->batching, nullptr);
  EXPECT_EQ(back->batching->send_batch_size, 10u);
  EXPECT_EQ(back->batching->send_batch_max_size, 20u);
  EXPECT_EQ(back->batching->timeout_nanos, 3'000'000'000);
  EXPECT_EQ(back->batching->metadata_keys, policy->metadata_keys);
  EXPECT_EQ(back->batching->metadata_cardinality_limit, 5u);

  auto plain = PersistentQueue::DecodeRecord(PersistentQueue::EncodeRecord(Request("x")));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->batching, nullptr);
  EXPECT_EQ(*plain->body, "x");

  const std::string encoded = PersistentQueue::EncodeRecord(r);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{12}}) {
    EXPECT_EQ(PersistentQueue::DecodeRecord(encoded.substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
}

// The exporter's senders give up when it stops; a persistent queue keeps what they could
// not deliver, and the next run sends it.
TEST_F(PersistentQueueTest, ExporterKeepsRequestsOnDiskWhileTheBackendFails) {
  SenderSettings settings;
  settings.queue.num_consumers = 1;
  settings.retry.initial_interval_nanos = 1'000'000;
  settings.retry.max_interval_nanos = 2'000'000;
  settings.retry.max_elapsed_time_nanos = 0;  // retry until stopped
  MetricsRegistry metrics;
  BuildContext ctx;
  ctx.id = ComponentId{"otlp", "pq"};
  ctx.metrics = &metrics;

  testutil::SendLog down;
  down.SetFallback(testutil::Retryable("backend down"));
  Open();
  {
    QueuedExporter exporter(settings, std::make_unique<testutil::FakeSender>(down),
                            std::move(queue_), ctx);
    ASSERT_TRUE(exporter.Start().ok());
    for (int spans : {1, 2, 3}) {
      absl::Notification accepted;
      exporter.Consume(RequestContext{}, testing::TracesBatch({7}, spans), [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        accepted.Notify();
      });
      accepted.WaitForNotification();
    }
    ASSERT_TRUE(down.WaitForAttempts(2));
    exporter.Shutdown();
    EXPECT_EQ(exporter.stats().failed_spans->Value(), 0u);
  }

  // The collector restarts and the backend is back.
  testutil::SendLog up;
  Open();
  EXPECT_EQ(queue_->recovered(), 3u);
  {
    QueuedExporter exporter(settings, std::make_unique<testutil::FakeSender>(up), std::move(queue_),
                            ctx);
    ASSERT_TRUE(exporter.Start().ok());
    ASSERT_TRUE(up.WaitForBodies(3));
    EXPECT_EQ(up.SpansPerBody(), (std::vector<size_t>{1, 2, 3}));
  }
  Open();
  EXPECT_EQ(queue_->recovered(), 0u);
}

// The in-memory queue holds request bodies: it takes them from the memory budget and
// refuses (Unavailable, retryable) past it, whatever its own capacity says.
TEST(MemoryQueueTest, BodiesAreChargedToTheMemoryLimit) {
  MemoryBudget budget(10'000, [] { return uint64_t{0}; });  // 8,000 bytes tracked
  MemoryQueue queue(100, &budget);
  auto offer = [&](size_t bytes) {
    ExportRequest r;
    r.body = std::make_shared<const std::string>(std::string(bytes, 'x'));
    absl::Status out = absl::InternalError("not answered");
    queue.Offer(std::move(r), [](absl::Status) {}, [&](absl::Status s) { out = s; });
    return out;
  };
  ASSERT_TRUE(offer(3000).ok());
  ASSERT_TRUE(offer(3000).ok());
  EXPECT_GE(budget.used(), 6000u);
  absl::Status refused = offer(3000);
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_NE(refused.message().find("memory limit"), std::string::npos) << refused;
  {
    auto popped = queue.Pop(*Clock::Real(), absl::Milliseconds(20));
    ASSERT_TRUE(popped.has_value());
    EXPECT_TRUE(absl::IsUnavailable(offer(3000)));  // being sent: still held
  }
  EXPECT_TRUE(offer(3000).ok());  // sent and let go: given back
  queue.Close();
}

}  // namespace
}  // namespace strand::pipeline
