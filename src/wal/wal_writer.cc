#include "wal/wal_writer.h"

#include <algorithm>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "wal/wal_format.h"

namespace strand {

// A queued record, or a rotation request (is_rotate). The record header's checksum field
// is filled in by the writer thread once the segment, and so the segment mask, is known;
// `hash` is computed by the appending thread so that checksumming runs in parallel.
struct WalWriter::Entry {
  bool is_rotate = false;
  char record_header[kWalRecordHeaderSize] = {};
  std::string header;
  std::string_view body;
  uint64_t hash = 0;
  uint64_t bytes = 0;  // record header + payload
  Callback done;                 // at most one of done and located_done is set
  LocatedCallback located_done;
  uint64_t* rotated_seq = nullptr;  // rotation: receives the new seq before `done` runs

  void Finish(absl::Status status, WalLocation location) {
    if (done) {
      done(std::move(status));
    } else if (located_done) {
      located_done(std::move(status), location);
    }
  }
};

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::Open(Env& env, std::string dir,
                                                           WalOptions options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("WalOptions.clock is null");
  if (dir.empty()) return absl::InvalidArgumentError("WAL directory is empty");
  const bool existed = env.FileExists(dir);
  RETURN_IF_ERROR(env.CreateDirs(dir));
  if (!existed) RETURN_IF_ERROR(env.SyncDir(DirName(dir)));
  ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, ListWalSegments(env, dir, options.segment_suffix));
  const uint64_t first_seq = seqs.empty() ? 1 : seqs.back() + 1;
  auto writer = absl::WrapUnique(new WalWriter(env, std::move(dir), options, first_seq));
  if (options.create_segment_at_open) RETURN_IF_ERROR(writer->OpenSegment());
  writer->thread_ = std::thread([w = writer.get()] { w->Run(); });
  return writer;
}

WalWriter::WalWriter(Env& env, std::string dir, WalOptions options, uint64_t first_seq)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      active_seq_(first_seq),
      next_seq_(first_seq) {}

WalWriter::~WalWriter() { Close().IgnoreError(); }

void WalWriter::Append(uint8_t type, std::string header, std::string_view body, Callback done) {
  Entry entry;
  entry.done = std::move(done);
  Enqueue(type, std::move(header), body, std::move(entry));
}

void WalWriter::AppendLocated(uint8_t type, std::string header, std::string_view body,
                              LocatedCallback done) {
  Entry entry;
  entry.located_done = std::move(done);
  Enqueue(type, std::move(header), body, std::move(entry));
}

void WalWriter::Enqueue(uint8_t type, std::string header, std::string_view body, Entry&& entry) {
  const uint64_t payload_size = header.size() + body.size();
  absl::Status rejected;
  if (type == 0) {
    rejected = absl::InvalidArgumentError("WAL record type 0 is reserved");
  } else if (payload_size > kWalMaxPayloadSize) {
    rejected = absl::InvalidArgumentError(absl::StrCat("WAL record payload of ", payload_size,
                                                       " bytes exceeds the limit of ",
                                                       kWalMaxPayloadSize));
  } else {
    EncodeFixed32(entry.record_header + 4, static_cast<uint32_t>(payload_size));
    entry.record_header[8] = static_cast<char>(type);
    entry.hash = WalRecordHash(static_cast<uint32_t>(payload_size), type, header, body);
    entry.header = std::move(header);
    entry.body = body;
    entry.bytes = kWalRecordHeaderSize + payload_size;
    {
      absl::MutexLock lock(&mu_);
      if (closing_) {
        rejected = absl::FailedPreconditionError("WAL writer is closed");
      } else if (queued_bytes_ > 0 && queued_bytes_ + entry.bytes > options_.max_queued_bytes) {
        rejected = absl::UnavailableError(absl::StrCat("WAL queue full: ", queued_bytes_,
                                                       " bytes queued, limit ",
                                                       options_.max_queued_bytes, "; retry later"));
      } else {
        queued_bytes_ += entry.bytes;
        queue_.push_back(std::move(entry));
        return;
      }
    }
  }
  {
    absl::MutexLock lock(&counters_mu_);
    ++counters_.records_rejected;
  }
  entry.Finish(std::move(rejected), {});
}

absl::Status WalWriter::AppendSync(uint8_t type, std::string header, std::string_view body) {
  if (OnWriterThread()) {
    return absl::FailedPreconditionError("WalWriter::AppendSync called from a WAL callback");
  }
  absl::Notification notification;
  absl::Status result;
  Append(type, std::move(header), body, [&](absl::Status status) {
    result = std::move(status);
    notification.Notify();
  });
  notification.WaitForNotification();
  return result;
}

absl::StatusOr<uint64_t> WalWriter::Rotate() {
  if (OnWriterThread()) {
    return absl::FailedPreconditionError("WalWriter::Rotate called from a WAL callback");
  }
  absl::Notification notification;
  absl::Status result;
  uint64_t seq = 0;
  Entry entry;
  entry.is_rotate = true;
  entry.rotated_seq = &seq;
  entry.done = [&](absl::Status status) {
    result = std::move(status);
    notification.Notify();
  };
  {
    absl::MutexLock lock(&mu_);
    if (closing_) return absl::FailedPreconditionError("WAL writer is closed");
    queue_.push_back(std::move(entry));
  }
  notification.WaitForNotification();
  RETURN_IF_ERROR(result);
  return seq;
}

absl::Status WalWriter::RemoveSegmentsBefore(uint64_t seq) {
  const uint64_t limit = std::min(seq, active_seq_.load());
  ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, ListWalSegments(env_, dir_, options_.segment_suffix));
  bool removed = false;
  for (uint64_t s : seqs) {
    if (s >= limit) break;
    absl::Status status = env_.RemoveFile(SegmentPath(s));
    if (!status.ok() && !absl::IsNotFound(status)) return status;
    removed = true;
  }
  if (removed) RETURN_IF_ERROR(env_.SyncDir(dir_));
  return absl::OkStatus();
}

absl::Status WalWriter::RemoveSegment(uint64_t seq) {
  if (seq >= active_seq_.load()) {
    return absl::FailedPreconditionError(
        absl::StrCat("WAL segment ", seq, " is still being written"));
  }
  absl::Status status = env_.RemoveFile(SegmentPath(seq));
  if (absl::IsNotFound(status)) return absl::OkStatus();
  RETURN_IF_ERROR(status);
  return env_.SyncDir(dir_);
}

std::string WalWriter::SegmentPath(uint64_t seq) const {
  return WalSegmentPath(dir_, seq, options_.segment_suffix);
}

absl::Status WalWriter::Close() {
  if (OnWriterThread()) {
    return absl::FailedPreconditionError("WalWriter::Close called from a WAL callback");
  }
  absl::MutexLock close_lock(&close_mu_);
  if (closed_) return close_status_;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (thread_.joinable()) thread_.join();
  closed_ = true;
  close_status_ = final_status_;
  return close_status_;
}

uint64_t WalWriter::current_segment() const { return active_seq_.load(); }

WalWriterCounters WalWriter::counters() const {
  WalWriterCounters result;
  {
    absl::MutexLock lock(&counters_mu_);
    result = counters_;
  }
  absl::MutexLock lock(&mu_);
  result.queued_bytes = queued_bytes_;
  return result;
}

bool WalWriter::OnWriterThread() const { return std::this_thread::get_id() == thread_.get_id(); }

bool WalWriter::HasWork() const { return !queue_.empty() || closing_; }

void WalWriter::Run() {
  std::vector<Entry> batch;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &WalWriter::HasWork));
      if (queue_.empty()) break;  // closing, and everything is drained
      batch.swap(queue_);
    }
    ProcessBatch(batch);
    batch.clear();
  }
  if (file_ != nullptr) final_status_ = CloseSegment();
}

// Splits the batch at rotation requests: records before a request go into the old
// segment as one group, records after it into the new one.
void WalWriter::ProcessBatch(std::vector<Entry>& batch) {
  size_t start = 0;
  for (size_t i = 0; i <= batch.size(); ++i) {
    if (i < batch.size() && !batch[i].is_rotate) continue;
    if (i > start) CommitGroup(std::span<Entry>(batch).subspan(start, i - start));
    if (i < batch.size()) HandleRotate(batch[i]);
    start = i + 1;
  }
}

void WalWriter::CommitGroup(std::span<Entry> group) {
  absl::Status status;
  if (file_ != nullptr && file_->Size() >= options_.segment_size_limit) {
    // The old segment is complete; a failure to close it cannot lose acknowledged data
    // in sync mode and is tolerated in relaxed mode.
    CloseSegment().IgnoreError();
  }
  if (file_ == nullptr) status = OpenSegment();

  uint64_t bytes = 0;
  uint64_t sync_nanos = 0;
  bool synced = false;
  WalLocation location;  // of the group's first record, when written
  if (status.ok()) {
    location = WalLocation{file_seq_, file_->Size()};
    std::vector<std::string_view> parts;
    parts.reserve(group.size() * 3);
    for (Entry& entry : group) {
      EncodeFixed32(entry.record_header, WalRecordChecksum(entry.hash, segment_mask_));
      parts.emplace_back(entry.record_header, kWalRecordHeaderSize);
      if (!entry.header.empty()) parts.emplace_back(entry.header);
      if (!entry.body.empty()) parts.push_back(entry.body);
      bytes += entry.bytes;
    }
    status = file_->AppendV(parts);
    if (status.ok()) {
      if (options_.sync) {
        const int64_t start = options_.clock->MonotonicNanos();
        status = file_->Sync();
        sync_nanos =
            static_cast<uint64_t>(std::max<int64_t>(0, options_.clock->MonotonicNanos() - start));
        synced = true;
      } else {
        status = file_->Flush();
      }
    }
    if (status.ok()) {
      good_size_ = file_->Size();
    } else {
      AbandonSegment();
    }
  }
  RecordCompletion(group.size(), bytes, status, sync_nanos, synced);
  {
    // The group leaves the queue bound before its callbacks run, so a callback (or a
    // caller it wakes) that appends again finds the room.
    uint64_t group_bytes = 0;
    for (const Entry& entry : group) group_bytes += entry.bytes;
    absl::MutexLock lock(&mu_);
    queued_bytes_ -= group_bytes;
  }
  for (Entry& entry : group) {
    entry.Finish(status, location);
    location.offset += entry.bytes;
  }
}

void WalWriter::HandleRotate(Entry& entry) {
  if (file_ != nullptr) CloseSegment().IgnoreError();
  absl::Status status = OpenSegment();
  if (status.ok()) *entry.rotated_seq = file_seq_;
  entry.done(std::move(status));
}

absl::Status WalWriter::OpenSegment() {
  // On failure next_seq_ stays, so the next attempt reuses (truncates) the same file
  // rather than leaving a trail of broken segments.
  const uint64_t seq = next_seq_;
  WalSegmentHeader header;
  header.seq = seq;
  header.created_unix_nanos = options_.clock->NowUnixNanos();
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                   env_.NewWritableFile(SegmentPath(seq)));
  RETURN_IF_ERROR(file->Append(EncodeWalSegmentHeader(header)));
  RETURN_IF_ERROR(file->Sync());
  RETURN_IF_ERROR(env_.SyncDir(dir_));
  file_ = std::move(file);
  file_seq_ = seq;
  segment_mask_ = WalSegmentMask(seq);
  good_size_ = file_->Size();
  next_seq_ = seq + 1;
  active_seq_.store(seq);
  absl::MutexLock lock(&counters_mu_);
  ++counters_.segments_created;
  return absl::OkStatus();
}

absl::Status WalWriter::CloseSegment() {
  absl::Status status = options_.sync ? absl::OkStatus() : file_->Sync();
  absl::Status close_status = file_->Close();
  if (status.ok()) status = std::move(close_status);
  file_.reset();
  active_seq_.store(next_seq_);
  return status;
}

void WalWriter::AbandonSegment() {
  // The bytes past good_size_ are a failed group that nobody was told is durable; trim
  // them so that the segment ends cleanly. If that fails too, replay treats the damaged
  // tail like any other.
  const std::string path = file_->path();
  file_->Close().IgnoreError();
  file_.reset();
  env_.TruncateFile(path, good_size_).IgnoreError();
  active_seq_.store(next_seq_);
}

void WalWriter::RecordCompletion(uint64_t records, uint64_t bytes, const absl::Status& status,
                                 uint64_t sync_nanos, bool synced) {
  absl::MutexLock lock(&counters_mu_);
  if (status.ok()) {
    counters_.records_written += records;
    counters_.bytes_written += bytes;
    ++counters_.groups_written;
  } else {
    counters_.records_failed += records;
  }
  if (synced) {
    ++counters_.syncs;
    counters_.sync_nanos_total += sync_nanos;
    counters_.sync_nanos_max = std::max(counters_.sync_nanos_max, sync_nanos);
  }
}

}  // namespace strand
