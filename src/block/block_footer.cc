#include "block/block_footer.h"

#include <cstring>

#include "block/byte_reader.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace strand::block {
namespace {

void PutPageRef(std::string* out, const PageRef& ref) {
  PutVarint64(out, ref.offset);
  PutVarint64(out, ref.stored_size);
  PutVarint64(out, ref.raw_size);
  out->push_back(static_cast<char>(ref.codec));
  PutFixed32(out, ref.checksum);
}

bool GetPageRef(ByteReader& in, PageRef* ref) {
  ref->offset = in.Varint();
  ref->stored_size = in.Varint();
  ref->raw_size = in.Varint();
  const uint8_t codec = in.U8();
  ref->checksum = in.Fixed32();
  if (!in.ok() || codec > static_cast<uint8_t>(Codec::kZstd)) return false;
  ref->codec = static_cast<Codec>(codec);
  // Offsets and sizes are bounded by the file size, checked by the caller; keep the sums
  // below from overflowing.
  return ref->offset < (1ull << 62) && ref->stored_size < (1ull << 62);
}

void GetId(ByteReader& in, otlp::TraceId* id) {
  std::string_view b = in.Bytes(id->size());
  if (in.ok()) std::memcpy(id->data(), b.data(), id->size());
}

}  // namespace

void BlockFooter::Encode(std::string* out) const {
  out->append(reinterpret_cast<const char*>(block_id.bytes.data()), block_id.bytes.size());
  PutVarint64(out, span_count);
  PutVarint64(out, trace_count);
  for (uint64_t v : {min_start, max_start, min_end, max_end}) PutFixed64(out, v);
  PutPageRef(out, tables);
  PutPageRef(out, stats);
  PutPageRef(out, bloom);
  PutVarint64(out, bloom_hashes);
  PutVarint64(out, row_groups.size());
  for (const RowGroupInfo& rg : row_groups) {
    PutVarint64(out, rg.offset);
    PutVarint64(out, rg.size);
    PutPageRef(out, rg.directory);
    PutVarint64(out, rg.span_count);
    PutVarint64(out, rg.trace_count);
    out->append(otlp::IdBytes(rg.first_trace));
    out->append(otlp::IdBytes(rg.last_trace));
  }
}

absl::StatusOr<BlockFooter> BlockFooter::Decode(std::string_view raw, std::string_view path,
                                                uint64_t footer_offset) {
  BlockFooter f;
  ByteReader in(raw);
  std::string_view id = in.Bytes(16);
  if (in.ok()) std::memcpy(f.block_id.bytes.data(), id.data(), 16);
  f.span_count = in.Varint();
  f.trace_count = in.Varint();
  for (uint64_t* v : {&f.min_start, &f.max_start, &f.min_end, &f.max_end}) *v = in.Fixed64();
  if (!GetPageRef(in, &f.tables) || !GetPageRef(in, &f.stats) || !GetPageRef(in, &f.bloom)) {
    return Corruption(path, footer_offset, "footer: bad section reference");
  }
  f.bloom_hashes = in.Varint32();
  const uint64_t num_groups = in.Varint();
  // A row group entry takes at least 45 bytes.
  if (!in.ok() || num_groups > in.remaining() / 45) {
    return Corruption(path, footer_offset, "footer: bad row group count");
  }
  auto within = [&](uint64_t offset, uint64_t size) {
    return offset >= kHeaderSize && size <= footer_offset && offset <= footer_offset - size;
  };
  for (const PageRef* ref : {&f.tables, &f.stats, &f.bloom}) {
    if (!within(ref->offset, ref->stored_size)) {
      return Corruption(path, footer_offset, "footer: section outside the file");
    }
  }
  f.row_groups.resize(num_groups);
  uint64_t next_offset = kHeaderSize;
  uint64_t spans = 0;
  uint64_t segments = 0;
  for (size_t i = 0; i < num_groups; ++i) {
    RowGroupInfo& rg = f.row_groups[i];
    rg.offset = in.Varint();
    rg.size = in.Varint();
    const bool ref_ok = GetPageRef(in, &rg.directory);
    rg.span_count = in.Varint32();
    rg.trace_count = in.Varint32();
    GetId(in, &rg.first_trace);
    GetId(in, &rg.last_trace);
    if (!in.ok() || !ref_ok) return Corruption(path, footer_offset, "footer: truncated row group");
    if (rg.offset < next_offset || !within(rg.offset, rg.size) ||
        rg.directory.stored_size > rg.size ||
        rg.directory.offset != rg.size - rg.directory.stored_size) {
      return Corruption(path, footer_offset,
                        "footer: row group " + std::to_string(i) + " is out of place");
    }
    if (rg.span_count == 0 || rg.trace_count == 0 || rg.trace_count > rg.span_count ||
        rg.last_trace < rg.first_trace ||
        (i > 0 && rg.first_trace < f.row_groups[i - 1].last_trace)) {
      return Corruption(path, footer_offset,
                        "footer: row group " + std::to_string(i) + " has bad counts or IDs");
    }
    next_offset = rg.offset + rg.size;
    spans += rg.span_count;
    segments += rg.trace_count;
  }
  if (!in.empty()) return Corruption(path, footer_offset, "footer: trailing bytes");
  if (spans != f.span_count || f.trace_count > segments || f.trace_count == 0) {
    return Corruption(path, footer_offset, "footer: counts do not add up");
  }
  return f;
}

size_t BlockFooter::MemoryUsage() const {
  return sizeof(*this) + row_groups.capacity() * sizeof(RowGroupInfo);
}

std::string EncodeHeader(const BlockId& id) {
  std::string out(kDataMagic);
  PutFixed32(&out, kFormatVersion);
  PutFixed32(&out, 0);  // flags
  out.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  PutFixed32(&out, Checksum32(out));
  return out;
}

absl::StatusOr<BlockId> DecodeHeader(std::string_view bytes, std::string_view path,
                                     bool verify_checksum) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, 8) != kDataMagic) {
    return Corruption(path, 0, "bad magic: not a Strand block data file");
  }
  if (verify_checksum &&
      Checksum32(bytes.substr(0, kHeaderSize - 4)) != DecodeFixed32(bytes.data() + 32)) {
    return Corruption(path, 32, "header checksum mismatch");
  }
  absl::Status version =
      CheckVersion(path, 8, DecodeFixed32(bytes.data() + 8), DecodeFixed32(bytes.data() + 12));
  if (!version.ok()) return version;
  BlockId id;
  std::memcpy(id.bytes.data(), bytes.data() + 16, 16);
  return id;
}

std::string EncodeTrailer(const Trailer& trailer) {
  std::string out;
  PutFixed32(&out, trailer.footer_size);
  PutFixed32(&out, trailer.footer_checksum);
  PutFixed32(&out, trailer.version);
  PutFixed32(&out, trailer.flags);
  out.append(kDataMagic);
  return out;
}

absl::StatusOr<Trailer> DecodeTrailer(std::string_view bytes, std::string_view path,
                                      uint64_t offset) {
  if (bytes.size() != kTrailerSize || bytes.substr(16) != kDataMagic) {
    return Corruption(path, offset + 16,
                      "bad trailer magic: the file is truncated or not a Strand block");
  }
  Trailer t;
  t.footer_size = DecodeFixed32(bytes.data());
  t.footer_checksum = DecodeFixed32(bytes.data() + 4);
  t.version = DecodeFixed32(bytes.data() + 8);
  t.flags = DecodeFixed32(bytes.data() + 12);
  return t;
}

uint32_t FooterChecksum(std::string_view footer, uint32_t version, uint32_t flags) {
  std::string buf(footer);
  PutFixed32(&buf, version);
  PutFixed32(&buf, flags);
  return Checksum32(buf);
}

absl::Status CheckVersion(std::string_view path, uint64_t offset, uint32_t version,
                          uint32_t flags) {
  if (version == 0) return Corruption(path, offset, "format version 0");
  if (version > kFormatVersion) {
    return absl::FailedPreconditionError(
        std::string(path) + ": block format version " + std::to_string(version) +
        " is newer than this build reads (" + std::to_string(kFormatVersion) + ")");
  }
  if (flags != 0) {
    return absl::FailedPreconditionError(std::string(path) + ": unknown block format flags " +
                                         std::to_string(flags));
  }
  return absl::OkStatus();
}

}  // namespace strand::block
