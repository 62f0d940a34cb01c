#include "wal/wal_reader.h"

#include <algorithm>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace strand {
namespace {

constexpr uint64_t kReadChunk = 1 << 20;

}  // namespace

const char* WalDamageKindName(WalDamageKind kind) {
  switch (kind) {
    case WalDamageKind::kTornTail:
      return "torn_tail";
    case WalDamageKind::kCorruptRecords:
      return "corrupt_records";
    case WalDamageKind::kBadHeader:
      return "bad_header";
    case WalDamageKind::kIncompleteSegment:
      return "incomplete_segment";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<WalReader>> WalReader::Open(Env& env, const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env.NewRandomAccessFile(path));
  return FromFile(std::move(file), ParseWalSegmentFileName(BaseName(path)));
}

absl::StatusOr<std::unique_ptr<WalReader>> WalReader::FromFile(
    std::unique_ptr<RandomAccessFile> file, std::optional<uint64_t> expected_seq,
    WalReadMode mode) {
  auto reader = absl::WrapUnique(new WalReader(std::move(file), expected_seq, mode));
  RETURN_IF_ERROR(reader->ReadHeader());
  return reader;
}

WalReader::WalReader(std::unique_ptr<RandomAccessFile> file, std::optional<uint64_t> expected_seq,
                     WalReadMode mode)
    : file_(std::move(file)),
      expected_seq_(expected_seq),
      mode_(mode),
      file_size_(file_->Size()),
      seq_(expected_seq.value_or(0)) {}

absl::Status WalReader::ReadHeader() {
  ASSIGN_OR_RETURN(std::string_view bytes, ReadAt(0, kWalSegmentHeaderSize));
  WalHeaderParse parsed = ParseWalSegmentHeader(bytes);
  header_status_ = parsed.status;
  header_ = parsed.header;
  if (header_status_ == WalHeaderStatus::kOk && expected_seq_.has_value() &&
      header_.seq != *expected_seq_) {
    header_status_ = WalHeaderStatus::kSeqMismatch;
  }
  WalDamage damage;
  damage.segment_seq = seq_;
  damage.length = file_size_;
  switch (header_status_) {
    case WalHeaderStatus::kOk:
      seq_ = header_.seq;
      mask_ = WalSegmentMask(seq_);
      offset_ = kWalSegmentHeaderSize;
      return absl::OkStatus();
    case WalHeaderStatus::kUnsupportedVersion:
      done_ = true;  // not damage: ReplayWal refuses the whole log
      return absl::OkStatus();
    case WalHeaderStatus::kIncomplete:
      damage.kind = WalDamageKind::kIncompleteSegment;
      damage.reason = file_size_ < kWalSegmentHeaderSize
                          ? absl::StrCat("segment of ", file_size_, " bytes has no complete header")
                          : std::string("segment header is all zeros");
      break;
    case WalHeaderStatus::kBadMagic:
      damage.kind = WalDamageKind::kBadHeader;
      damage.reason = "bad magic";
      damage.data_loss = true;
      break;
    case WalHeaderStatus::kBadChecksum:
      damage.kind = WalDamageKind::kBadHeader;
      damage.reason = "header checksum mismatch";
      damage.data_loss = true;
      break;
    case WalHeaderStatus::kSeqMismatch:
      damage.kind = WalDamageKind::kBadHeader;
      damage.reason = absl::StrCat("header seq ", header_.seq, " does not match the file name");
      damage.data_loss = true;
      break;
  }
  damage_.push_back(std::move(damage));
  done_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> WalReader::ReadAt(uint64_t offset, uint64_t n) {
  if (offset >= window_offset_ && offset - window_offset_ + n <= window_.size()) {
    return window_.substr(offset - window_offset_, n);
  }
  if (offset >= file_size_) return std::string_view();
  const uint64_t chunk = mode_ == WalReadMode::kSequential ? kReadChunk : 0;
  const uint64_t want = std::min(std::max(n, chunk), file_size_ - offset);
  scratch_.resize(want);
  window_ = std::string_view();
  ASSIGN_OR_RETURN(window_, file_->Read(offset, std::span<char>(scratch_.data(), want)));
  window_offset_ = offset;
  return window_.substr(0, std::min<uint64_t>(n, window_.size()));
}

absl::StatusOr<WalReader::Parsed> WalReader::ParseAt(uint64_t offset) {
  Parsed p;
  if (offset >= file_size_) return p;  // kEnd
  const uint64_t remaining = file_size_ - offset;
  ASSIGN_OR_RETURN(std::string_view head, ReadAt(offset, kWalRecordHeaderSize));
  if (head.size() < kWalRecordHeaderSize) {
    p.kind = ParseKind::kShortHeader;
    p.reason =
        absl::StrCat("short record header: ", head.size(), " of ", kWalRecordHeaderSize, " bytes");
    return p;
  }
  const uint32_t checksum = DecodeFixed32(head.data());
  const uint32_t length = DecodeFixed32(head.data() + 4);
  const auto type = static_cast<uint8_t>(head[8]);
  if (length > kWalMaxPayloadSize) {
    p.kind = ParseKind::kBadLength;
    p.reason = absl::StrCat("record length ", length, " exceeds the format limit");
    return p;
  }
  if (length > remaining - kWalRecordHeaderSize) {
    p.kind = ParseKind::kShortPayload;
    p.reason = absl::StrCat("record length ", length, " runs past the end of the file (",
                            remaining - kWalRecordHeaderSize, " bytes left)");
    return p;
  }
  p.size = kWalRecordHeaderSize + length;
  ASSIGN_OR_RETURN(std::string_view bytes, ReadAt(offset, p.size));
  if (bytes.size() < p.size) {  // the file shrank under us
    p.kind = ParseKind::kShortPayload;
    p.reason = "file shorter than its size when opened";
    return p;
  }
  std::string_view payload = bytes.substr(kWalRecordHeaderSize);
  if (type == 0 || WalRecordChecksum(WalRecordHash(length, type, payload, {}), mask_) != checksum) {
    p.kind = ParseKind::kBadChecksum;
    p.reason = type == 0 ? "record type 0" : "record checksum mismatch";
    return p;
  }
  p.kind = ParseKind::kOk;
  p.record = WalRecordView{type, payload, offset};
  return p;
}

absl::StatusOr<std::optional<WalRecordView>> WalReader::Next() {
  if (done_) return std::nullopt;
  ASSIGN_OR_RETURN(Parsed p, ParseAt(offset_));
  switch (p.kind) {
    case ParseKind::kOk:
      offset_ += p.size;
      return p.record;
    case ParseKind::kEnd:
      EndAt(offset_, "");
      return std::nullopt;
    case ParseKind::kBadChecksum: {
      // Follow the damaged records' lengths; a valid record after them means they were
      // corrupted in place, not torn off.
      uint64_t next = offset_ + p.size;
      for (int hops = 1; hops <= kMaxSkippedRecords; ++hops) {
        ASSIGN_OR_RETURN(Parsed q, ParseAt(next));
        if (q.kind == ParseKind::kOk) {
          WalDamage damage;
          damage.segment_seq = seq_;
          damage.offset = offset_;
          damage.length = next - offset_;
          damage.kind = WalDamageKind::kCorruptRecords;
          damage.reason = absl::StrCat(hops, " damaged record(s) skipped (", p.reason, ")");
          damage.data_loss = true;
          damage_.push_back(std::move(damage));
          offset_ = next + q.size;
          return q.record;
        }
        if (q.kind != ParseKind::kBadChecksum) break;
        next += q.size;
      }
      EndAt(offset_, p.reason);
      return std::nullopt;
    }
    case ParseKind::kShortHeader:
    case ParseKind::kShortPayload:
    case ParseKind::kBadLength:
      EndAt(offset_, p.reason);
      return std::nullopt;
  }
  return std::nullopt;
}

absl::StatusOr<WalRecordView> WalReader::RecordAt(uint64_t offset) {
  if (header_status_ != WalHeaderStatus::kOk) {
    return absl::DataLossError(absl::StrCat("WAL segment ", seq_, " has no valid header"));
  }
  if (offset < kWalSegmentHeaderSize) {
    return absl::DataLossError(absl::StrCat("offset ", offset, " is inside the segment header"));
  }
  ASSIGN_OR_RETURN(Parsed p, ParseAt(offset));
  if (p.kind == ParseKind::kOk) return p.record;
  return absl::DataLossError(absl::StrCat("no valid record at offset ", offset, " of WAL segment ",
                                          seq_, ": ", p.kind == ParseKind::kEnd
                                                          ? std::string("past the end")
                                                          : p.reason));
}

void WalReader::EndAt(uint64_t offset, std::string reason) {
  done_ = true;
  valid_end_ = offset;
  if (offset >= file_size_) return;
  WalDamage damage;
  damage.segment_seq = seq_;
  damage.offset = offset;
  damage.length = file_size_ - offset;
  damage.kind = WalDamageKind::kTornTail;
  damage.reason = std::move(reason);
  damage_.push_back(std::move(damage));
}

}  // namespace strand
