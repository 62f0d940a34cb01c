#include "wal/wal_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/fault_injection_env.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_test_util.h"

namespace strand {
namespace {

using ::testing::ElementsAre;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Collects the statuses handed to Append callbacks, in completion order.
class Completions {
 public:
  WalWriter::Callback Callback(int id) {
    return [this, id](absl::Status status) {
      absl::MutexLock lock(&mu_);
      results_.emplace_back(id, std::move(status));
    };
  }
  void WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    target_ = n;
    mu_.Await(absl::Condition(this, &Completions::Reached));
  }
  std::vector<std::pair<int, absl::Status>> results() {
    absl::MutexLock lock(&mu_);
    return results_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return results_.size();
  }

 private:
  bool Reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return results_.size() >= target_; }

  mutable absl::Mutex mu_;
  std::vector<std::pair<int, absl::Status>> results_ ABSL_GUARDED_BY(mu_);
  size_t target_ ABSL_GUARDED_BY(mu_) = 0;
};

// Holds the first data sync after Arm() until Release(), so a test can queue records
// behind an in-flight group.
class SyncGate {
 public:
  explicit SyncGate(FaultInjectionEnv& env) : env_(env) {}
  ~SyncGate() {
    Release();
    env_.SetBeforeSyncHook(nullptr);
  }
  void Arm() {
    env_.SetBeforeSyncHook([this] {
      if (armed_.exchange(false)) {
        entered_.Notify();
        release_.WaitForNotification();
      }
    });
    armed_ = true;
  }
  void WaitUntilHeld() { entered_.WaitForNotification(); }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  FaultInjectionEnv& env_;
  std::atomic<bool> armed_{false};
  absl::Notification entered_;
  absl::Notification release_;
};

class WalWriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<WalWriter> Open(WalOptions options = {}) {
    auto writer = WalWriter::Open(env_, dir_.path(), options);
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? std::move(*writer) : nullptr;
  }
  std::vector<ReplayedRecord> ReplayRecords() {
    auto result = ReplayAll(env_, dir_.path());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->records : std::vector<ReplayedRecord>{};
  }
  std::vector<uint64_t> Segments() { return *ListWalSegments(env_, dir_.path()); }
  // A simulated power cut with `writer` still running: nothing it does from here on
  // reaches the disk.
  void PowerCut(std::unique_ptr<WalWriter>& writer) {
    env_.SetFilesystemActive(false);
    writer.reset();
    ASSERT_TRUE(env_.DropUnsyncedData().ok());
    env_.SetFilesystemActive(true);
  }

  ScopedTempDir dir_;
  FaultInjectionEnv env_{*Env::Default()};
};

TEST_F(WalWriterTest, AppendedRecordsReplayInOrderWithHeaderThenBody) {
  auto writer = Open();
  const std::string big(3 << 20, 'b');
  ASSERT_TRUE(writer->AppendSync(1, "head", "body").ok());
  ASSERT_TRUE(writer->AppendSync(2, "", "").ok());
  ASSERT_TRUE(writer->AppendSync(255, "only-header").ok());
  ASSERT_TRUE(writer->AppendSync(3, "h:", big).ok());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_THAT(ReplayRecords(),
              ElementsAre(ReplayedRecord{1, "headbody"}, ReplayedRecord{2, ""},
                          ReplayedRecord{255, "only-header"}, ReplayedRecord{3, "h:" + big}));
}

TEST_F(WalWriterTest, WritesTheBytesTheFormatSpecifies) {
  auto writer = Open();
  ASSERT_TRUE(writer->AppendSync(7, "ab", "cd").ok());
  const uint64_t seq = writer->current_segment();
  ASSERT_TRUE(writer->Close().ok());
  std::string segment = *env_.ReadFileToString(WalSegmentPath(dir_.path(), seq));
  WalHeaderParse header = ParseWalSegmentHeader(segment);
  ASSERT_EQ(header.status, WalHeaderStatus::kOk);
  EXPECT_EQ(header.header.seq, seq);
  EXPECT_EQ(segment.substr(kWalSegmentHeaderSize), EncodeWalRecord(WalSegmentMask(seq), 7, "abcd"));
}

TEST_F(WalWriterTest, CallbacksRunOnTheWriterThreadOncePerRecord) {
  auto writer = Open();
  std::atomic<int> calls{0};
  std::thread::id callback_thread;
  absl::Notification done;
  writer->Append(1, "x", {}, [&](absl::Status status) {
    EXPECT_TRUE(status.ok());
    callback_thread = std::this_thread::get_id();
    ++calls;
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_NE(callback_thread, std::this_thread::get_id());
}

TEST_F(WalWriterTest, GroupCommitSharesOneSyncAcrossQueuedRecords) {
  auto writer = Open();
  SyncGate gate(env_);
  gate.Arm();
  Completions completions;
  writer->Append(1, "first", {}, completions.Callback(0));
  gate.WaitUntilHeld();  // the first group is in its fsync
  const int64_t syncs_before = env_.sync_count();
  for (int i = 1; i <= 100; ++i) {
    writer->Append(1, "queued-" + std::to_string(i), {}, completions.Callback(i));
  }
  EXPECT_EQ(completions.size(), 0u);  // nothing acknowledged before its sync
  gate.Release();
  completions.WaitFor(101);
  for (const auto& [id, status] : completions.results()) EXPECT_TRUE(status.ok()) << id;
  // The held sync finished, plus exactly one for the 100 queued records.
  EXPECT_EQ(env_.sync_count() - syncs_before, 2);
  WalWriterCounters counters = writer->counters();
  EXPECT_EQ(counters.syncs, 2u);
  EXPECT_EQ(counters.groups_written, 2u);
  EXPECT_EQ(counters.records_written, 101u);
  EXPECT_EQ(counters.queued_bytes, 0u);
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_EQ(ReplayRecords().size(), 101u);
}

TEST_F(WalWriterTest, ConcurrentAppendersAreAllAcknowledgedInPerThreadOrder) {
  auto writer = Open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        ASSERT_TRUE(writer->AppendSync(1, "", body).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  WalWriterCounters counters = writer->counters();
  EXPECT_EQ(counters.records_written, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LE(counters.syncs, counters.records_written);
  EXPECT_EQ(counters.syncs, counters.groups_written);
  ASSERT_TRUE(writer->Close().ok());

  std::vector<int> next(kThreads, 0);
  std::vector<ReplayedRecord> records = ReplayRecords();
  ASSERT_EQ(records.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const ReplayedRecord& r : records) {
    const size_t colon = r.payload.find(':');
    const int t = std::stoi(r.payload.substr(0, colon));
    EXPECT_EQ(std::stoi(r.payload.substr(colon + 1)), next[t]++);
  }
}

TEST_F(WalWriterTest, SyncFailureFailsTheWholeGroupAndNothingInItIsAcknowledged) {
  auto writer = Open();
  ASSERT_TRUE(writer->AppendSync(1, "before").ok());
  const uint64_t failed_segment = writer->current_segment();
  SyncGate gate(env_);
  gate.Arm();
  Completions held;
  writer->Append(1, "held", {}, held.Callback(0));
  gate.WaitUntilHeld();
  env_.FailNext(FaultInjectionEnv::Op::kSync, 1, absl::InternalError("fdatasync: EIO"));
  Completions group;
  for (int i = 0; i < 10; ++i) writer->Append(1, "doomed", {}, group.Callback(i));
  gate.Release();
  group.WaitFor(10);
  for (const auto& [id, status] : group.results()) {
    EXPECT_THAT(std::string(status.message()), HasSubstr("EIO")) << id;
  }
  held.WaitFor(1);
  EXPECT_TRUE(held.results()[0].second.ok());
  EXPECT_EQ(writer->counters().records_failed, 10u);

  // The log carries on in a new segment.
  ASSERT_TRUE(writer->AppendSync(1, "after").ok());
  EXPECT_GT(writer->current_segment(), failed_segment);
  PowerCut(writer);
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "before"}, ReplayedRecord{1, "held"},
                                           ReplayedRecord{1, "after"}));
}

TEST_F(WalWriterTest, WriteFailureFailsTheGroupAndTheLogContinues) {
  auto writer = Open();
  ASSERT_TRUE(writer->AppendSync(1, "one").ok());
  env_.FailNext(FaultInjectionEnv::Op::kWrite, 1, absl::ResourceExhaustedError("ENOSPC"));
  absl::Status failed = writer->AppendSync(1, "two");
  EXPECT_TRUE(absl::IsResourceExhausted(failed)) << failed;
  ASSERT_TRUE(writer->AppendSync(1, "three").ok());
  ASSERT_TRUE(writer->Close().ok());
  auto replayed = ReplayAll(env_, dir_.path());
  ASSERT_TRUE(replayed.ok());
  EXPECT_THAT(replayed->records, ElementsAre(ReplayedRecord{1, "one"}, ReplayedRecord{1, "three"}));
  EXPECT_THAT(replayed->stats.damage, IsEmpty());
}

TEST_F(WalWriterTest, SegmentCreationFailureFailsGroupsUntilItSucceeds) {
  WalOptions options;
  options.segment_size_limit = 1;  // every group starts a new segment
  auto writer = Open(options);
  ASSERT_TRUE(writer->AppendSync(1, "a").ok());
  env_.FailNext(FaultInjectionEnv::Op::kSyncDir, 2);
  EXPECT_FALSE(writer->AppendSync(1, "b").ok());
  EXPECT_FALSE(writer->AppendSync(1, "c").ok());
  ASSERT_TRUE(writer->AppendSync(1, "d").ok());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "a"}, ReplayedRecord{1, "d"}));
}

// Appenders race a power cut at a random moment; every record acknowledged before the
// cut must be replayed afterwards.
TEST_F(WalWriterTest, AcknowledgedRecordsSurviveAPowerCut) {
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    ScopedTempDir dir;
    WalOptions options;
    options.segment_size_limit = 16 * 1024;  // rotations happen during the run
    auto opened = WalWriter::Open(env_, dir.path(), options);
    ASSERT_TRUE(opened.ok());
    std::unique_ptr<WalWriter> writer = std::move(*opened);
    absl::Mutex mu;
    std::set<std::string> acknowledged;
    std::atomic<int> acked_count{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i) +
                                std::string(100 + (i * 37) % 400, 'x');
          if (!writer->AppendSync(1, payload).ok()) return;
          absl::MutexLock lock(&mu);
          acknowledged.insert(payload);
          ++acked_count;
        }
      });
    }
    while (acked_count.load() < 50 * (round + 1)) std::this_thread::yield();
    env_.SetFilesystemActive(false);  // the power goes
    for (std::thread& thread : threads) thread.join();
    writer.reset();
    ASSERT_TRUE(env_.DropUnsyncedData().ok());
    env_.SetFilesystemActive(true);

    auto replayed = ReplayAll(env_, dir.path());
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_FALSE(replayed->stats.data_loss()) << replayed->stats.DamageSummary();
    std::set<std::string> present;
    for (const ReplayedRecord& r : replayed->records) present.insert(r.payload);
    absl::MutexLock lock(&mu);
    for (const std::string& payload : acknowledged) {
      EXPECT_TRUE(present.count(payload)) << payload.substr(0, 12) << " lost";
    }
  }
}

TEST_F(WalWriterTest, RotatesWhenTheSegmentIsFull) {
  WalOptions options;
  options.segment_size_limit = 1024;
  auto writer = Open(options);
  std::vector<ReplayedRecord> expected;
  for (int i = 0; i < 40; ++i) {
    std::string payload(100, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(writer->AppendSync(1, payload).ok());
    expected.push_back({1, payload});
  }
  const WalWriterCounters counters = writer->counters();
  ASSERT_TRUE(writer->Close().ok());
  const std::vector<uint64_t> segments = Segments();
  EXPECT_EQ(segments.size(), counters.segments_created);
  EXPECT_GE(segments.size(), 4u);
  for (uint64_t seq : segments) {
    // A segment is rotated once it reaches the limit, so it exceeds it by under one group.
    EXPECT_LT(*env_.GetFileSize(WalSegmentPath(dir_.path(), seq)), 1024u + 109u);
  }
  EXPECT_EQ(ReplayRecords(), expected);
}

TEST_F(WalWriterTest, OpenStartsANewSegmentAfterTheHighestOne) {
  auto first = Open();
  ASSERT_TRUE(first->AppendSync(1, "a").ok());
  ASSERT_TRUE(first->Rotate().ok());
  const uint64_t last = first->current_segment();
  ASSERT_TRUE(first->Close().ok());
  auto second = Open();
  EXPECT_EQ(second->current_segment(), last + 1);
  ASSERT_TRUE(second->AppendSync(1, "b").ok());
  ASSERT_TRUE(second->Close().ok());
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "a"}, ReplayedRecord{1, "b"}));
  EXPECT_EQ(Segments().back(), last + 1);
}

TEST_F(WalWriterTest, RotateAndRemoveSegmentsBeforeTruncateTheLog) {
  auto writer = Open();
  const uint64_t first = writer->current_segment();
  ASSERT_TRUE(writer->AppendSync(1, "old-1").ok());
  ASSERT_TRUE(writer->AppendSync(1, "old-2").ok());
  auto rotated = writer->Rotate();
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(*rotated, first + 1);
  EXPECT_EQ(writer->current_segment(), *rotated);
  ASSERT_TRUE(writer->AppendSync(1, "new").ok());
  ASSERT_TRUE(writer->RemoveSegmentsBefore(*rotated).ok());
  EXPECT_THAT(Segments(), ElementsAre(*rotated));
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "new"}));
}

TEST_F(WalWriterTest, RemoveSegmentsBeforeNeverRemovesTheActiveSegment) {
  auto writer = Open();
  ASSERT_TRUE(writer->AppendSync(1, "a").ok());
  ASSERT_TRUE(writer->RemoveSegmentsBefore(UINT64_MAX).ok());
  EXPECT_THAT(Segments(), ElementsAre(writer->current_segment()));
  ASSERT_TRUE(writer->AppendSync(1, "b").ok());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "a"}, ReplayedRecord{1, "b"}));
}

TEST_F(WalWriterTest, FullQueueRejectsFastWithUnavailable) {
  WalOptions options;
  options.max_queued_bytes = 4096;
  auto writer = Open(options);
  SyncGate gate(env_);
  gate.Arm();
  Completions completions;
  const std::string body(1000, 'q');
  writer->Append(1, "", body, completions.Callback(0));
  gate.WaitUntilHeld();
  int accepted = 1;
  absl::Status rejected;
  for (int i = 1; i < 10 && rejected.ok(); ++i) {
    const size_t before = completions.size();
    writer->Append(1, "", body, completions.Callback(i));
    if (completions.size() > before) {
      rejected = completions.results().back().second;  // ran synchronously inside Append
    } else {
      ++accepted;
    }
  }
  EXPECT_TRUE(absl::IsUnavailable(rejected)) << rejected;
  EXPECT_EQ(accepted, 4);  // 4 * 1009 bytes fit in 4096
  EXPECT_EQ(writer->counters().records_rejected, 1u);
  gate.Release();
  completions.WaitFor(accepted + 1);
  int ok = 0;
  for (const auto& [id, status] : completions.results()) ok += status.ok();
  EXPECT_EQ(ok, accepted);
  EXPECT_TRUE(writer->AppendSync(1, "", body).ok());  // room again
}

TEST_F(WalWriterTest, InvalidRecordsAreRejected) {
  auto writer = Open();
  EXPECT_TRUE(absl::IsInvalidArgument(writer->AppendSync(0, "type zero")));
  EXPECT_EQ(writer->counters().records_rejected, 1u);
}

TEST_F(WalWriterTest, CloseDrainsTheQueueAndLaterAppendsFail) {
  auto writer = Open();
  Completions completions;
  for (int i = 0; i < 50; ++i) writer->Append(1, std::to_string(i), {}, completions.Callback(i));
  ASSERT_TRUE(writer->Close().ok());
  ASSERT_EQ(completions.size(), 50u);
  for (const auto& [id, status] : completions.results()) EXPECT_TRUE(status.ok()) << id;
  EXPECT_TRUE(absl::IsFailedPrecondition(writer->AppendSync(1, "late")));
  EXPECT_TRUE(absl::IsFailedPrecondition(writer->Rotate().status()));
  EXPECT_TRUE(writer->Close().ok());
  EXPECT_EQ(ReplayRecords().size(), 50u);
}

TEST_F(WalWriterTest, RelaxedDurabilityAcknowledgesWithoutSyncButCloseSyncs) {
  WalOptions options;
  options.sync = false;
  auto writer = Open(options);
  const int64_t syncs_after_open = env_.sync_count();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer->AppendSync(1, std::to_string(i)).ok());
  EXPECT_EQ(writer->counters().syncs, 0u);
  EXPECT_EQ(env_.sync_count(), syncs_after_open);
  ASSERT_TRUE(writer->Close().ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReplayRecords().size(), 20u);
}

TEST_F(WalWriterTest, CallbacksMayAppendButMustNotBlockOnTheWal) {
  auto writer = Open();
  absl::Notification inner_done;
  absl::Status sync_from_callback;
  absl::Status close_from_callback;
  writer->Append(1, "outer", {}, [&](absl::Status status) {
    ASSERT_TRUE(status.ok());
    sync_from_callback = writer->AppendSync(1, "would deadlock");
    close_from_callback = writer->Close();
    writer->Append(1, "inner", {}, [&](absl::Status inner) {
      EXPECT_TRUE(inner.ok());
      inner_done.Notify();
    });
  });
  inner_done.WaitForNotification();
  EXPECT_TRUE(absl::IsFailedPrecondition(sync_from_callback));
  EXPECT_TRUE(absl::IsFailedPrecondition(close_from_callback));
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_THAT(ReplayRecords(), ElementsAre(ReplayedRecord{1, "outer"}, ReplayedRecord{1, "inner"}));
}

TEST_F(WalWriterTest, CountersTrackBytesAndSyncLatency) {
  FakeClock clock;
  WalOptions options;
  options.clock = &clock;
  auto writer = Open(options);
  ASSERT_TRUE(writer->AppendSync(1, "12345").ok());
  ASSERT_TRUE(writer->AppendSync(1, "", "123").ok());
  WalWriterCounters counters = writer->counters();
  EXPECT_EQ(counters.records_written, 2u);
  EXPECT_EQ(counters.bytes_written, 2 * kWalRecordHeaderSize + 8);
  EXPECT_EQ(counters.syncs, 2u);
  EXPECT_EQ(counters.sync_nanos_total, 0u);  // the fake clock stands still
  EXPECT_EQ(counters.segments_created, 1u);
}

// What the persistent queue builds on: located appends read back one by one, a suffix of
// its own, no segment until something is written, and removing segments out of order.
TEST_F(WalWriterTest, LocatedAppendsCanBeReadBackOneByOne) {
  WalOptions options;
  options.segment_size_limit = 1;  // every group in a segment of its own
  auto writer = Open(options);
  std::vector<WalLocation> locations;
  for (const char* payload : {"first", "second", "third"}) {
    absl::Notification written;
    writer->AppendLocated(4, "p:", payload, [&](absl::Status status, WalLocation location) {
      EXPECT_TRUE(status.ok()) << status;
      locations.push_back(location);
      written.Notify();
    });
    written.WaitForNotification();
  }
  // Two records in one group: the second lies right after the first.
  Completions both;
  SyncGate gate(env_);
  gate.Arm();
  writer->Append(1, "hold", "", both.Callback(0));
  gate.WaitUntilHeld();
  WalLocation a, b;
  writer->AppendLocated(4, "ab", "", [&](absl::Status, WalLocation l) { a = l; });
  writer->AppendLocated(4, "cde", "", [&](absl::Status, WalLocation l) { b = l; });
  writer->Append(1, "end", "", both.Callback(1));
  gate.Release();
  both.WaitFor(2);
  ASSERT_TRUE(writer->Close().ok());

  ASSERT_EQ(locations.size(), 3u);
  EXPECT_EQ(locations[0].offset, kWalSegmentHeaderSize);
  EXPECT_LT(locations[0].seq, locations[1].seq);
  EXPECT_LT(locations[1].seq, locations[2].seq);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(b.offset, a.offset + kWalRecordHeaderSize + 2);
  auto read = [&](WalLocation at) -> absl::StatusOr<std::string> {
    auto file = env_.NewRandomAccessFile(WalSegmentPath(dir_.path(), at.seq));
    if (!file.ok()) return file.status();
    auto reader = WalReader::FromFile(std::move(*file), at.seq, WalReadMode::kRandomAccess);
    if (!reader.ok()) return reader.status();
    auto record = (*reader)->RecordAt(at.offset);
    if (!record.ok()) return record.status();
    EXPECT_EQ(record->type, 4);
    return std::string(record->payload);
  };
  EXPECT_EQ(*read(locations[0]), "p:first");
  EXPECT_EQ(*read(locations[2]), "p:third");
  EXPECT_EQ(*read(b), "cde");
  EXPECT_EQ(*read(a), "ab");
  // Not the start of a record: refused, never misread.
  EXPECT_EQ(read({a.seq, a.offset + 1}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(read({a.seq, 3}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(read({a.seq, 1 << 20}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(WalWriterTest, LazySegmentsWithTheirOwnSuffixAndRemovedOneByOne) {
  WalOptions options;
  options.segment_suffix = ".seg";
  options.create_segment_at_open = false;
  options.segment_size_limit = 1;
  auto writer = Open(options);
  EXPECT_TRUE(env_.GetChildren(dir_.path())->empty());  // nothing written, no file
  const uint64_t first = writer->current_segment();
  EXPECT_EQ(first, 1u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer->AppendSync(1, "r").ok());
  EXPECT_THAT(*ListWalSegments(env_, dir_.path(), ".seg"), ElementsAre(1, 2, 3));
  EXPECT_THAT(Segments(), IsEmpty());  // no ".wal" file
  EXPECT_EQ(writer->RemoveSegment(3).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(writer->RemoveSegment(2).ok());
  ASSERT_TRUE(writer->RemoveSegment(2).ok());  // already gone
  EXPECT_THAT(*ListWalSegments(env_, dir_.path(), ".seg"), ElementsAre(1, 3));
  ASSERT_TRUE(writer->Close().ok());
  writer = Open(options);  // a new run starts after the highest segment, when it writes
  EXPECT_EQ(writer->current_segment(), 4u);
  EXPECT_THAT(*ListWalSegments(env_, dir_.path(), ".seg"), ElementsAre(1, 3));
  ASSERT_TRUE(writer->RemoveSegment(3).ok());
  ASSERT_TRUE(writer->AppendSync(1, "r").ok());
  EXPECT_THAT(*ListWalSegments(env_, dir_.path(), ".seg"), ElementsAre(1, 4));
  EXPECT_EQ(WalSegmentFileName(4, ".seg"), "0000000000000004.seg");
  EXPECT_EQ(ParseWalSegmentFileName("00000004.seg", ".seg"), std::nullopt);
}

}  // namespace
}  // namespace strand
