#include "pipeline/queue/persistent_queue.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "pipeline/extension/file_storage/file_storage.h"
#include "wal/wal_reader.h"

namespace strand::pipeline {
namespace {

// Segment files of the log: <seq as 16 digits>.seg; each has an ack file <seq>.ack.
constexpr char kSegmentSuffix[] = ".seg";
constexpr char kAckSuffix[] = ".ack";

void PutString(std::string& out, std::string_view s) {
  PutVarint64(&out, s.size());
  out.append(s);
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  const char* p = GetVarint64Ptr(in.data(), in.data() + in.size(), &v);
  if (p == nullptr) return false;
  in.remove_prefix(static_cast<size_t>(p - in.data()));
  return true;
}

bool GetString(std::string_view& in, std::string& out) {
  uint64_t n;
  if (!GetVarint(in, n) || n > in.size()) return false;
  out.assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

// Version 1 (docs/format/persistent_queue.md, "Version 1"), kept only to move what an
// earlier Strand left into the log: <8 digits>.seg = "STRANDQ1" (u32 length,
// u32 Checksum32(payload), payload)*, and <8 digits>.ack = u32 record indices.
namespace v1 {

constexpr std::string_view kMagic = "STRANDQ1";
constexpr size_t kRecordHeader = 8;
constexpr uint32_t kMaxRecord = 1u << 30;

// The number of a version-1 segment file name ("00000012.seg"), or nullopt.
std::optional<uint32_t> ParseSegmentName(std::string_view name) {
  if (name.size() != 8 + std::strlen(kSegmentSuffix) || name.substr(8) != kSegmentSuffix) {
    return std::nullopt;
  }
  uint32_t seg = 0;
  for (char c : name.substr(0, 8)) {
    if (c < '0' || c > '9') return std::nullopt;
    seg = seg * 10 + static_cast<uint32_t>(c - '0');
  }
  return seg;
}

std::string FileName(uint32_t seg, const char* suffix) {
  return absl::StrCat(absl::StrFormat("%08u", seg), suffix);
}

// The payloads of the segment's records not named in its ack file, in record order. A
// record cut short or failing its checksum ends the segment.
absl::StatusOr<std::vector<std::string>> UnackedRequests(Env& env, const std::string& dir,
                                                         uint32_t seg) {
  ASSIGN_OR_RETURN(std::string data,
                   env.ReadFileToString(JoinPath(dir, FileName(seg, kSegmentSuffix))));
  std::set<uint32_t> acked;
  if (auto acks = env.ReadFileToString(JoinPath(dir, FileName(seg, kAckSuffix))); acks.ok()) {
    for (size_t i = 0; i + 4 <= acks->size(); i += 4) acked.insert(DecodeFixed32(acks->data() + i));
  }
  std::vector<std::string> out;
  if (!std::string_view(data).starts_with(kMagic)) return out;
  uint64_t pos = kMagic.size();
  for (uint32_t index = 0; pos + kRecordHeader <= data.size(); ++index) {
    const uint32_t len = DecodeFixed32(data.data() + pos);
    const uint32_t sum = DecodeFixed32(data.data() + pos + 4);
    if (len > kMaxRecord || pos + kRecordHeader + len > data.size()) break;
    std::string_view payload = std::string_view(data).substr(pos + kRecordHeader, len);
    if (Checksum32(payload) != sum) break;
    if (!acked.contains(index)) out.emplace_back(payload);
    pos += kRecordHeader + len;
  }
  return out;
}

}  // namespace v1
}  // namespace

std::string PersistentQueue::EncodeRecord(const ExportRequest& r) {
  std::string out;
  PutString(out, r.tenant);
  PutVarint64(&out, r.spans);
  out.push_back(r.batching ? 1 : 0);
  if (r.batching) {
    const BatchPolicy& p = *r.batching;
    PutVarint64(&out, p.send_batch_size);
    PutVarint64(&out, p.send_batch_max_size);
    PutVarint64(&out, static_cast<uint64_t>(p.timeout_nanos));
    PutVarint64(&out, p.metadata_cardinality_limit);
    PutVarint64(&out, p.metadata_keys.size());
    for (const auto& k : p.metadata_keys) PutString(out, k);
    PutVarint64(&out, r.batch_key.size());
    for (const auto& v : r.batch_key) PutString(out, v);
  }
  out.append(*r.body);
  return out;
}

absl::StatusOr<ExportRequest> PersistentQueue::DecodeRecord(std::string_view in) {
  auto bad = [] { return absl::DataLossError("malformed persistent queue record"); };
  ExportRequest r;
  uint64_t flag = 0;
  if (!GetString(in, r.tenant) || !GetVarint(in, r.spans) || in.empty()) return bad();
  flag = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (flag > 1) return bad();
  if (flag == 1) {
    auto p = std::make_shared<BatchPolicy>();
    uint64_t timeout = 0, n = 0;
    if (!GetVarint(in, p->send_batch_size) || !GetVarint(in, p->send_batch_max_size) ||
        !GetVarint(in, timeout) || !GetVarint(in, p->metadata_cardinality_limit) ||
        !GetVarint(in, n) || n > 1000) {
      return bad();
    }
    p->timeout_nanos = static_cast<int64_t>(timeout);
    p->metadata_keys.resize(n);
    for (auto& k : p->metadata_keys) {
      if (!GetString(in, k)) return bad();
    }
    if (!GetVarint(in, n) || n > 1000) return bad();
    r.batch_key.resize(n);
    for (auto& v : r.batch_key) {
      if (!GetString(in, v)) return bad();
    }
    r.batching = std::move(p);
  }
  r.body = std::make_shared<const std::string>(in);
  return r;
}

absl::StatusOr<std::unique_ptr<PersistentQueue>> PersistentQueue::Open(
    FileStorage& storage, const ComponentId& exporter, uint64_t capacity,
    MetricsRegistry* /*metrics*/) {
  std::string name = absl::StrCat("exporter_", exporter.type, "_", exporter.name, "_traces");
  for (char& c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      c = '_';
    }
  }
  return OpenDir(storage.env(), JoinPath(storage.directory(), name), capacity, storage.fsync());
}

absl::StatusOr<std::unique_ptr<PersistentQueue>> PersistentQueue::OpenDir(
    Env& env, std::string dir, uint64_t capacity, bool fsync, uint64_t max_segment_bytes) {
  std::unique_ptr<PersistentQueue> q(new PersistentQueue(env, std::move(dir), capacity));
  WalOptions options;
  options.segment_size_limit = max_segment_bytes;
  options.sync = fsync;
  options.max_queued_bytes = UINT64_MAX;  // capacity counts requests instead
  options.segment_suffix = kSegmentSuffix;
  options.create_segment_at_open = false;  // a run that queues nothing leaves no segment
  // Creates the directory; its first segment comes after every segment listed below.
  ASSIGN_OR_RETURN(q->log_, WalWriter::Open(env, q->dir_, options));
  ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListWalSegments(env, q->dir_, kSegmentSuffix));
  RETURN_IF_ERROR(q->Recover(segments));
  RETURN_IF_ERROR(q->MigrateVersion1());
  if (q->recovered_ > 0) {
    LOG_INFO("persistent queue {}: {} requests from the previous run will be sent", q->dir_,
             q->recovered_);
  }
  return q;
}

PersistentQueue::~PersistentQueue() {
  Close();
  // Writes what is still being appended and answers its Offers.
  if (log_) (void)log_->Close();
  absl::MutexLock lock(&mu_);
  for (auto& [n, seg] : segments_) {
    if (seg.acks) (void)seg.acks->Close();
  }
}

std::string PersistentQueue::SegmentPath(uint64_t seq) const {
  return WalSegmentPath(dir_, seq, kSegmentSuffix);
}
std::string PersistentQueue::AckPath(uint64_t seq) const {
  return WalSegmentPath(dir_, seq, kAckSuffix);
}

absl::Status PersistentQueue::Recover(const std::vector<uint64_t>& segments) {
  absl::MutexLock lock(&mu_);
  for (uint64_t seq : segments) {
    RETURN_IF_ERROR(RecoverSegment(seq));
    MaybeDelete(seq);
  }
  return absl::OkStatus();
}

absl::Status PersistentQueue::RecoverSegment(uint64_t seq) {
  std::set<uint64_t> acked;  // record offsets
  if (auto acks = env_.ReadFileToString(AckPath(seq)); acks.ok()) {
    for (size_t i = 0; i + 8 <= acks->size(); i += 8) acked.insert(DecodeFixed64(acks->data() + i));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env_.NewRandomAccessFile(SegmentPath(seq)));
  ASSIGN_OR_RETURN(std::unique_ptr<WalReader> reader, WalReader::FromFile(std::move(file), seq));
  if (reader->header_status() == WalHeaderStatus::kUnsupportedVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "persistent queue segment ", SegmentPath(seq), " has format version ",
        reader->header().version, " (flags ", reader->header().flags,
        "), written by a newer Strand; this one reads version ", kWalFormatVersion));
  }
  Segment& s = segments_[seq];
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<WalRecordView> record, reader->Next());
    if (!record) break;
    ++s.records;
    if (acked.contains(record->offset)) {
      ++s.acked;
    } else {
      ready_.push_back({seq, record->offset});
      ++held_;
      ++recovered_;
    }
  }
  for (const WalDamage& d : reader->damage()) {
    // A torn tail or an incomplete header is the trace of a crash while writing; the
    // requests there were never accepted.
    if (!d.data_loss) {
      LOG_WARN("persistent queue segment {}: {} bytes from offset {} ignored (a write cut short: {})",
               SegmentPath(seq), d.length, d.offset, d.reason);
      continue;
    }
    s.damaged = true;
    LOG_ERROR("persistent queue segment {}: {} damaged bytes from offset {} could not be read "
              "({}: {}); the segment is kept for inspection and never deleted",
              SegmentPath(seq), d.length, d.offset, WalDamageKindName(d.kind), d.reason);
  }
  return absl::OkStatus();
}

absl::Status PersistentQueue::MigrateVersion1() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_.GetChildren(dir_));
  std::vector<uint32_t> old;
  for (const std::string& name : names) {
    if (std::optional<uint32_t> seg = v1::ParseSegmentName(name)) old.push_back(*seg);
  }
  std::sort(old.begin(), old.end());
  for (uint32_t seg : old) {
    ASSIGN_OR_RETURN(std::vector<std::string> requests, v1::UnackedRequests(env_, dir_, seg));
    {
      absl::MutexLock lock(&mu_);
      held_ += requests.size();
    }
    absl::BlockingCounter left(static_cast<int>(requests.size()));
    absl::Mutex mu;
    absl::Status failed;
    const ConsumeDone accepted = [&](absl::Status s) {
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        failed.Update(s);
      }
      left.DecrementCount();
    };
    for (std::string& request : requests) {
      log_->AppendLocated(kRequestRecordType, std::move(request), {},
                          [&](absl::Status s, WalLocation at) { Written(s, at, accepted); });
    }
    left.Wait();
    // On failure the file stays, to be moved at the next start (what did reach the log is
    // then sent twice: at least once).
    RETURN_IF_ERROR(failed);
    recovered_ += requests.size();
    for (const char* suffix : {kSegmentSuffix, kAckSuffix}) {
      absl::Status removed = env_.RemoveFile(JoinPath(dir_, v1::FileName(seg, suffix)));
      if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
    }
    RETURN_IF_ERROR(env_.SyncDir(dir_));
    LOG_INFO("persistent queue {}: {} requests of format version 1 segment {} moved to the log",
             dir_, requests.size(), v1::FileName(seg, kSegmentSuffix));
  }
  return absl::OkStatus();
}

void PersistentQueue::Written(const absl::Status& status, WalLocation location,
                              const ConsumeDone& accepted) {
  if (!status.ok()) {
    bool first_failure = false;
    {
      absl::MutexLock lock(&mu_);
      --held_;
      first_failure = !failing_;
      failing_ = true;
    }
    if (first_failure) {  // once per run of failures, not once per request of a group
      LOG_ERROR("persistent queue {}: writing requests failed: {}", dir_, status.ToString());
    }
    // Requests of a failed group may still be on disk and be sent after a restart (at
    // least once).
    accepted(absl::IsInvalidArgument(status)  // too large for a log record: never fits
                 ? status
                 : absl::UnavailableError(absl::StrCat(
                       "persistent queue write failed; retry later: ", std::string(status.message()))));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    failing_ = false;
    ++segments_[location.seq].records;
    ready_.push_back({location.seq, location.offset});
    if (location.seq > newest_written_) {
      // The log moved on: the segments before this one are written no more and go once
      // every request in them is acknowledged.
      newest_written_ = location.seq;
      std::vector<uint64_t> older;
      for (const auto& [seq, segment] : segments_) {
        if (seq < location.seq) older.push_back(seq);
      }
      for (uint64_t seq : older) MaybeDelete(seq);
    }
  }
  accepted(absl::OkStatus());
}

void PersistentQueue::Offer(ExportRequest&& request, ConsumeDone /*sent*/, ConsumeDone accepted) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      refused = absl::UnavailableError("exporter is shutting down; retry later");
    } else if (held_ >= capacity_) {
      refused = absl::UnavailableError("sending queue is full; retry later");
    } else {
      ++held_;
    }
  }
  if (!refused.ok()) {
    accepted(std::move(refused));
    return;
  }
  log_->AppendLocated(kRequestRecordType, EncodeRecord(request), {},
                      [this, accepted = std::move(accepted)](absl::Status s, WalLocation at) {
                        Written(s, at, accepted);
                      });
}

absl::StatusOr<ExportRequest> PersistentQueue::Read(const Location& location) const {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env_.NewRandomAccessFile(SegmentPath(location.segment)));
  ASSIGN_OR_RETURN(std::unique_ptr<WalReader> reader,
                   WalReader::FromFile(std::move(file), location.segment,
                                       WalReadMode::kRandomAccess));
  ASSIGN_OR_RETURN(WalRecordView record, reader->RecordAt(location.offset));
  if (record.type != kRequestRecordType) {
    return absl::DataLossError(absl::StrCat("record of unknown type ", int{record.type}));
  }
  return DecodeRecord(record.payload);
}

std::optional<QueuedRequest> PersistentQueue::Pop(const Clock& clock, absl::Duration wait) {
  Location loc;
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    clock.AwaitWithTimeout(mu_, absl::Condition(this, &PersistentQueue::PopReady),
                           absl::ToInt64Nanoseconds(wait));
    // Once closed, what is left stays on disk for the next run.
    if (ready_.empty() || closed_) return std::nullopt;
    loc = ready_.front();
    ready_.pop_front();
    id = next_id_++;
    popped_[id] = loc;
  }
  absl::StatusOr<ExportRequest> request = Read(loc);
  if (!request.ok()) {
    LOG_ERROR("persistent queue {}: the request at offset {} of segment {} is unreadable and is "
              "dropped: {}",
              dir_, loc.offset, loc.segment, request.status().ToString());
    Ack(id);
    return std::nullopt;
  }
  return QueuedRequest{id, std::move(*request), nullptr};
}

void PersistentQueue::Ack(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto popped = popped_.find(id);
  if (popped == popped_.end()) return;
  const Location loc = popped->second;
  popped_.erase(popped);
  auto it = segments_.find(loc.segment);
  if (it == segments_.end()) return;
  Segment& s = it->second;
  if (!s.acks) {
    auto f = env_.NewAppendableFile(AckPath(loc.segment));
    if (f.ok()) s.acks = std::move(*f);
  }
  if (s.acks) {
    std::string rec;
    PutFixed64(&rec, loc.offset);
    // Not synced: losing an ack in a power cut only means the request is sent again.
    if (s.acks->Append(rec).ok()) (void)s.acks->Flush();
  }
  ++s.acked;
  if (held_ > 0) --held_;
  MaybeDelete(loc.segment);
}

void PersistentQueue::MaybeDelete(uint64_t seq) {
  auto it = segments_.find(seq);
  if (it == segments_.end() || it->second.damaged || seq >= log_->current_segment() ||
      it->second.acked < it->second.records) {
    return;
  }
  if (it->second.acks) (void)it->second.acks->Close();
  if (absl::Status s = log_->RemoveSegment(seq); !s.ok()) {
    LOG_WARN("persistent queue {}: removing segment {}: {}", dir_, seq, s.ToString());
  }
  (void)env_.RemoveFile(AckPath(seq));
  segments_.erase(it);
}

uint64_t PersistentQueue::Size() const {
  absl::MutexLock lock(&mu_);
  return held_;
}

void PersistentQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace strand::pipeline
