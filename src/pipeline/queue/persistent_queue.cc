#include "pipeline/queue/persistent_queue.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/logging.h"
#include "pipeline/extension/file_storage/file_storage.h"

namespace strand::pipeline {
namespace {

constexpr char kMagic[] = "STRANDQ1";  // 8 bytes at the start of every segment
constexpr size_t kMagicSize = 8;
constexpr size_t kRecordHeader = 8;  // u32 payload length, u32 checksum
constexpr uint32_t kMaxRecord = 1u << 30;

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

bool ParseSegmentName(const std::string& name, const char* ext, uint32_t& seg) {
  const std::string suffix = std::string(".") + ext;
  if (name.size() != 8 + suffix.size() || name.substr(8) != suffix) return false;
  return absl::SimpleAtoi(name.substr(0, 8), &seg);
}

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
  if (auto s = env.CreateDirs(dir); !s.ok()) return s;
  std::unique_ptr<PersistentQueue> q(
      new PersistentQueue(env, std::move(dir), capacity, fsync, max_segment_bytes));
  if (auto s = q->Recover(); !s.ok()) return s;
  if (q->recovered_ > 0) {
    LOG_INFO("persistent queue {}: {} requests from the previous run will be sent", q->dir_,
             q->recovered_);
  }
  q->writer_ = std::thread([p = q.get()] { p->RunWriter(); });
  return q;
}

PersistentQueue::~PersistentQueue() {
  Close();
  if (writer_.joinable()) writer_.join();
  if (file_) (void)file_->Close();
  absl::MutexLock lock(&mu_);
  for (auto& [n, seg] : segments_) {
    if (seg.acks) (void)seg.acks->Close();
  }
}

std::string PersistentQueue::SegmentPath(uint32_t seg) const {
  return JoinPath(dir_, absl::StrFormat("%08u.seg", seg));
}
std::string PersistentQueue::AckPath(uint32_t seg) const {
  return JoinPath(dir_, absl::StrFormat("%08u.ack", seg));
}

absl::Status PersistentQueue::Recover() {
  auto names = env_.GetChildren(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint32_t> segs;
  for (const auto& name : *names) {
    uint32_t seg;
    if (ParseSegmentName(name, "seg", seg)) segs.push_back(seg);
  }
  std::sort(segs.begin(), segs.end());
  absl::MutexLock lock(&mu_);
  for (uint32_t seg : segs) {
    next_segment_ = std::max(next_segment_, seg + 1);
    auto bytes = env_.ReadFileToString(SegmentPath(seg));
    if (!bytes.ok()) return bytes.status();
    std::set<uint32_t> acked;
    if (auto acks = env_.ReadFileToString(AckPath(seg)); acks.ok()) {
      for (size_t i = 0; i + 4 <= acks->size(); i += 4)
        acked.insert(DecodeFixed32(acks->data() + i));
    }
    Segment s;
    std::string_view data = *bytes;
    if (data.size() >= kMagicSize && data.substr(0, kMagicSize) == std::string_view(kMagic, 8)) {
      uint64_t pos = kMagicSize;
      while (pos + kRecordHeader <= data.size()) {
        const uint32_t len = DecodeFixed32(data.data() + pos);
        const uint32_t sum = DecodeFixed32(data.data() + pos + 4);
        if (len > kMaxRecord || pos + kRecordHeader + len > data.size()) break;
        std::string_view payload = data.substr(pos + kRecordHeader, len);
        if (Checksum32(payload) != sum) break;
        const uint32_t index = s.records++;
        if (acked.count(index) > 0) {
          ++s.acked;
        } else {
          ready_.push_back({seg, index, pos + kRecordHeader, len});
          ++held_;
          ++recovered_;
        }
        pos += kRecordHeader + len;
      }
      if (pos < data.size()) {
        LOG_WARN(
            "persistent queue segment {}: {} bytes after the last whole record ignored "
            "(a write cut short)",
            SegmentPath(seg), data.size() - pos);
      }
    }
    segments_[seg] = std::move(s);
    MaybeDelete(seg);
  }
  return absl::OkStatus();
}

void PersistentQueue::CloseSegment() {
  if (!file_) return;
  (void)file_->Close();
  file_.reset();
  absl::MutexLock lock(&mu_);
  segments_[file_segment_].active = false;
  MaybeDelete(file_segment_);
}

absl::Status PersistentQueue::StartSegment() {
  CloseSegment();
  const uint32_t seg = next_segment_++;
  auto f = env_.NewWritableFile(SegmentPath(seg));
  if (!f.ok()) return f.status();
  if (auto s = (*f)->Append(std::string_view(kMagic, kMagicSize)); !s.ok()) return s;
  if (auto s = env_.SyncDir(dir_); !s.ok()) return s;
  file_ = std::move(*f);
  file_segment_ = seg;
  file_records_ = 0;
  absl::MutexLock lock(&mu_);
  segments_[seg].active = true;
  return absl::OkStatus();
}

absl::Status PersistentQueue::Publish(const std::vector<Location>& written) {
  if (written.empty()) return absl::OkStatus();
  if (auto s = fsync_ ? file_->Sync() : file_->Flush(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  for (const auto& loc : written) {
    ready_.push_back(loc);
    ++segments_[loc.segment].records;
  }
  return absl::OkStatus();
}

void PersistentQueue::RunWriter() {
  for (;;) {
    std::vector<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &PersistentQueue::WriterReady));
      if (pending_.empty() && closed_) return;
      batch.swap(pending_);
    }
    // Invariant: the first `published` requests of `batch` are durable and counted in
    // their segment; `written` are in file_ but not yet synced. A segment is closed (and
    // may be deleted once all its requests are acknowledged) only after what was written
    // to it is published, so a batch that spans segments loses nothing.
    std::vector<Location> written;
    size_t published = 0;
    absl::Status status;
    auto publish = [&] {
      status = Publish(written);
      if (status.ok()) {
        published += written.size();
        written.clear();
      }
      return status.ok();
    };
    for (const auto& p : batch) {
      if (!file_ || file_->Size() >= max_segment_bytes_) {
        if (!publish()) break;
        status = StartSegment();
        if (!status.ok()) break;
      }
      std::string header;
      PutFixed32(&header, static_cast<uint32_t>(p.payload.size()));
      PutFixed32(&header, Checksum32(p.payload));
      const uint64_t offset = file_->Size() + kRecordHeader;
      std::string_view parts[] = {header, p.payload};
      status = file_->AppendV(parts);
      if (!status.ok()) break;
      written.push_back(
          {file_segment_, file_records_++, offset, static_cast<uint32_t>(p.payload.size())});
    }
    if (status.ok()) publish();
    if (!status.ok()) {
      LOG_ERROR("persistent queue {}: writing failed: {}", dir_, status.ToString());
      // The next write starts a fresh segment. Requests written here but refused below
      // may still be on disk and be sent after a restart (at least once).
      CloseSegment();
    }
    {
      absl::MutexLock lock(&mu_);
      held_ -= batch.size() - published;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].accepted(i < published ? absl::OkStatus()
                                      : absl::UnavailableError(absl::StrCat(
                                            "persistent queue write failed; retry later: ",
                                            std::string(status.message()))));
    }
  }
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
      pending_.push_back({EncodeRecord(request), std::move(accepted)});
      return;
    }
  }
  accepted(std::move(refused));
}

std::optional<QueuedRequest> PersistentQueue::Pop(const Clock& clock, absl::Duration wait) {
  Location loc;
  {
    absl::MutexLock lock(&mu_);
    clock.AwaitWithTimeout(mu_, absl::Condition(this, &PersistentQueue::PopReady),
                           absl::ToInt64Nanoseconds(wait));
    // Once closed, what is left stays on disk for the next run.
    if (ready_.empty() || closed_) return std::nullopt;
    loc = ready_.front();
    ready_.pop_front();
  }
  const uint64_t id = (static_cast<uint64_t>(loc.segment) << 32) | loc.index;
  absl::StatusOr<ExportRequest> request = absl::DataLossError("unread");
  auto file = env_.NewRandomAccessFile(SegmentPath(loc.segment));
  if (file.ok()) {
    std::string scratch(loc.length, '\0');
    auto data = (*file)->Read(loc.offset, std::span<char>(scratch.data(), scratch.size()));
    if (data.ok() && data->size() == loc.length) {
      request = DecodeRecord(*data);
    } else {
      request = data.ok() ? absl::DataLossError("short read") : data.status();
    }
  } else {
    request = file.status();
  }
  if (!request.ok()) {
    LOG_ERROR("persistent queue {}: request {} of segment {} is unreadable and is dropped: {}",
              dir_, loc.index, loc.segment, request.status().ToString());
    Ack(id);
    return std::nullopt;
  }
  return QueuedRequest{id, std::move(*request), nullptr};
}

void PersistentQueue::Ack(uint64_t id) {
  const uint32_t seg = static_cast<uint32_t>(id >> 32);
  const uint32_t index = static_cast<uint32_t>(id);
  absl::MutexLock lock(&mu_);
  auto it = segments_.find(seg);
  if (it == segments_.end()) return;
  Segment& s = it->second;
  if (!s.acks) {
    auto f = env_.NewAppendableFile(AckPath(seg));
    if (f.ok()) s.acks = std::move(*f);
  }
  if (s.acks) {
    std::string rec;
    PutFixed32(&rec, index);
    // Not synced: losing an ack in a power cut only means the request is sent again.
    if (s.acks->Append(rec).ok()) (void)s.acks->Flush();
  }
  ++s.acked;
  if (held_ > 0) --held_;
  MaybeDelete(seg);
}

void PersistentQueue::MaybeDelete(uint32_t seg) {
  auto it = segments_.find(seg);
  if (it == segments_.end() || it->second.active || it->second.acked < it->second.records) return;
  if (it->second.acks) (void)it->second.acks->Close();
  (void)env_.RemoveFile(SegmentPath(seg));
  (void)env_.RemoveFile(AckPath(seg));
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
