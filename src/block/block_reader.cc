#include "block/block_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/memory/memory.h"
#include "block/row_group_decoder.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace strand::block {

absl::StatusOr<std::unique_ptr<BlockReader>> BlockReader::Open(Env& env,
                                                               const std::string& block_dir,
                                                               BlockReaderOptions options) {
  const std::string meta_path = JoinPath(block_dir, kMetaFileName);
  ASSIGN_OR_RETURN(std::string json, env.ReadFileToString(meta_path));
  ASSIGN_OR_RETURN(BlockMeta meta, BlockMeta::FromJson(json, meta_path));
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env.NewRandomAccessFile(JoinPath(block_dir, kDataFileName)));
  const std::string path = file->path();
  if (file->Size() != meta.data_size) {
    return Corruption(path, std::min(file->Size(), meta.data_size),
                      "file is " + std::to_string(file->Size()) + " bytes, meta.json says " +
                          std::to_string(meta.data_size) + " (truncated?)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<BlockReader> reader, OpenFile(std::move(file), options));
  // The trailer's checksum field sits 24 bytes before the end.
  ASSIGN_OR_RETURN(std::string trailer, reader->ReadExactly(meta.data_size - kTrailerSize, 8));
  ASSIGN_OR_RETURN(std::string header, reader->ReadExactly(kHeaderSize - 4, 4));
  if (reader->footer_.block_id != meta.block_id ||
      DecodeFixed32(trailer.data() + 4) != meta.footer_checksum ||
      DecodeFixed32(header.data()) != meta.header_checksum) {
    return absl::DataLossError(path + ": data file does not belong to " + meta_path +
                               " (block ID or checksums differ)");
  }
  if (meta.span_count != reader->footer_.span_count ||
      meta.trace_count != reader->footer_.trace_count) {
    return absl::DataLossError(path + ": counts differ from " + meta_path);
  }
  reader->meta_ = std::move(meta);
  return reader;
}

absl::StatusOr<std::unique_ptr<BlockReader>> BlockReader::OpenFile(
    std::unique_ptr<RandomAccessFile> file, BlockReaderOptions options) {
  const std::string path = file->path();
  const uint64_t size = file->Size();
  if (size < kHeaderSize + kTrailerSize) {
    return Corruption(path, size, "file is too short to be a block");
  }
  auto read = [&](uint64_t offset, uint64_t n) -> absl::StatusOr<std::string> {
    std::string buf(n, '\0');
    ASSIGN_OR_RETURN(std::string_view got, file->Read(offset, std::span<char>(buf)));
    if (got.size() != n) return Corruption(path, offset + got.size(), "unexpected end of file");
    if (got.data() != buf.data()) std::memcpy(buf.data(), got.data(), n);
    return buf;
  };
  ASSIGN_OR_RETURN(std::string header, read(0, kHeaderSize));
  ASSIGN_OR_RETURN(BlockId id, DecodeHeader(header, path, options.verify_checksums));
  const uint64_t trailer_offset = size - kTrailerSize;
  ASSIGN_OR_RETURN(std::string trailer_bytes, read(trailer_offset, kTrailerSize));
  ASSIGN_OR_RETURN(Trailer trailer, DecodeTrailer(trailer_bytes, path, trailer_offset));
  if (trailer.footer_size > trailer_offset - kHeaderSize) {
    return Corruption(path, trailer_offset, "footer size exceeds the file");
  }
  const uint64_t footer_offset = trailer_offset - trailer.footer_size;
  ASSIGN_OR_RETURN(std::string footer_bytes, read(footer_offset, trailer.footer_size));
  if (options.verify_checksums &&
      FooterChecksum(footer_bytes, trailer.version, trailer.flags) != trailer.footer_checksum) {
    return Corruption(path, footer_offset, "footer checksum mismatch");
  }
  RETURN_IF_ERROR(CheckVersion(path, trailer_offset + 8, trailer.version, trailer.flags));
  if (trailer.version != DecodeFixed32(header.data() + 8)) {
    return Corruption(path, 8, "header and trailer disagree on the format version");
  }
  ASSIGN_OR_RETURN(BlockFooter footer, BlockFooter::Decode(footer_bytes, path, footer_offset));
  if (footer.block_id != id) {
    return Corruption(path, footer_offset, "footer and header name different blocks");
  }
  if (footer.bloom.codec != Codec::kNone) {
    return Corruption(path, footer_offset, "bloom filter section is compressed");
  }
  ASSIGN_OR_RETURN(std::string bloom_bytes, read(footer.bloom.offset, footer.bloom.stored_size));
  std::string scratch;
  ASSIGN_OR_RETURN(std::string_view bits,
                   DecodePage(bloom_bytes, footer.bloom, path, footer.bloom.offset, 0, &scratch,
                              options.verify_checksums));
  std::optional<BloomFilter> bloom = BloomFilter::Parse(footer.bloom_hashes, std::string(bits));
  if (!bloom.has_value()) return Corruption(path, footer.bloom.offset, "bad bloom filter");
  // Probing on disk needs the bits as stored (uncompressed, so a view into bloom_bytes).
  const bool on_disk = !options.bloom_in_memory && bits.data() >= bloom_bytes.data() &&
                       bits.data() + bits.size() <= bloom_bytes.data() + bloom_bytes.size();
  const uint64_t bits_offset =
      footer.bloom.offset + (on_disk ? bits.data() - bloom_bytes.data() : 0);
  const uint64_t num_bits = bloom->num_bits();
  const uint32_t num_hashes = bloom->num_hashes();
  if (on_disk) bloom.reset();
  auto reader = absl::WrapUnique(
      new BlockReader(std::move(file), options, std::move(footer), std::move(bloom)));
  reader->bloom_bits_offset_ = bits_offset;
  reader->bloom_num_bits_ = num_bits;
  reader->bloom_hashes_ = num_hashes;
  return reader;
}

absl::StatusOr<std::string> BlockReader::ReadExactly(uint64_t offset, uint64_t size) const {
  std::string buf(size, '\0');
  ASSIGN_OR_RETURN(std::string_view got, file_->Read(offset, std::span<char>(buf)));
  if (got.size() != size) {
    return Corruption(path(), offset + got.size(), "unexpected end of file");
  }
  if (got.data() != buf.data()) std::memcpy(buf.data(), got.data(), size);
  return buf;
}

absl::StatusOr<std::string> BlockReader::ReadSection(const PageRef& ref) const {
  ASSIGN_OR_RETURN(std::string stored, ReadExactly(ref.offset, ref.stored_size));
  std::string scratch;
  ASSIGN_OR_RETURN(std::string_view raw,
                   DecodePage(stored, ref, path(), ref.offset, options_.max_page_bytes, &scratch,
                              options_.verify_checksums));
  if (raw.data() == scratch.data()) return scratch;
  return std::string(raw);
}

absl::StatusOr<BlockTables> BlockReader::ReadTables() const {
  ASSIGN_OR_RETURN(std::string raw, ReadSection(footer_.tables));
  return BlockTables::Parse(std::move(raw), path(), footer_.tables.offset);
}

absl::StatusOr<BlockStats> BlockReader::ReadStats() const {
  ASSIGN_OR_RETURN(std::string raw, ReadSection(footer_.stats));
  ASSIGN_OR_RETURN(BlockStats stats, BlockStats::Decode(raw, path(), footer_.stats.offset));
  if (stats.row_groups.size() != footer_.row_groups.size()) {
    return Corruption(path(), footer_.stats.offset, "stats: wrong number of row groups");
  }
  for (size_t i = 0; i < stats.row_groups.size(); ++i) {
    const RowGroupStats& rg = stats.row_groups[i];
    if (rg.span_count != footer_.row_groups[i].span_count ||
        rg.trace_count != footer_.row_groups[i].trace_count) {
      return Corruption(
          path(), footer_.stats.offset,
          "stats: counts of row group " + std::to_string(i) + " differ from the footer's");
    }
  }
  return stats;
}

bool BlockReader::MayContain(const otlp::TraceId& id) const {
  if (bloom_.has_value()) return bloom_->MayContain(id);
  return BloomFilter::Probe(
      BloomFilter::HashTraceId(id), bloom_hashes_, bloom_num_bits_, [this](uint64_t bit) {
        char byte = 0;
        absl::StatusOr<std::string_view> got =
            file_->Read(bloom_bits_offset_ + bit / 8, std::span<char>(&byte, 1));
        // Unreadable: say "maybe" and let the lookup itself meet (and report) the error.
        if (!got.ok() || got->size() != 1) return true;
        return (static_cast<uint8_t>((*got)[0]) & (1u << (bit % 8))) != 0;
      });
}

absl::StatusOr<std::optional<FoundTrace>> BlockReader::FindTrace(
    const otlp::TraceId& id, const FindTraceOptions& options) const {
  if (!MayContain(id)) return std::nullopt;
  const std::vector<RowGroupInfo>& groups = footer_.row_groups;
  // Row groups are ordered by trace ID; those whose range holds `id` are consecutive.
  auto it = std::lower_bound(
      groups.begin(), groups.end(), id,
      [](const RowGroupInfo& g, const otlp::TraceId& v) { return g.last_trace < v; });
  if (it == groups.end() || id < it->first_trace) return std::nullopt;

  FoundTrace found;
  ASSIGN_OR_RETURN(BlockTables tables, ReadTables());
  found.inspected_bytes += footer_.tables.stored_size;
  BlockTables::BatchMap map = tables.NewBatchMap();
  for (; it != groups.end() && !(id < it->first_trace); ++it) {
    const size_t index = static_cast<size_t>(it - groups.begin());
    if (options.skip) {
      if (absl::Status skip = options.skip(index); !skip.ok()) {
        found.unread.push_back({index, std::move(skip)});
        continue;
      }
    }
    absl::Status read = FindInRowGroup(id, index, tables, map, options.continue_past_damage, found);
    if (!read.ok()) {
      if (!options.continue_past_damage || !absl::IsDataLoss(read)) return read;
      found.unread.push_back({index, std::move(read)});
    }
  }
  if (found.spans.spans.empty() && found.unread.empty()) return std::nullopt;
  return found;
}

absl::Status BlockReader::FindInRowGroup(const otlp::TraceId& id, size_t index,
                                         const BlockTables& tables, BlockTables::BatchMap& map,
                                         bool all_or_nothing, FoundTrace& found) const {
  ASSIGN_OR_RETURN(std::unique_ptr<RowGroupDecoder> decoder, ReadWholeRowGroup(index));
  found.inspected_bytes += footer_.row_groups[index].size;
  ++found.row_groups_read;
  RETURN_IF_ERROR(decoder->LoadTraces());
  std::optional<uint32_t> segment = decoder->FindTrace(id);
  if (!segment.has_value()) return absl::OkStatus();
  if (!all_or_nothing) {
    return decoder->DecodeTraces(*segment, *segment + 1, tables, map, found.spans);
  }
  // The lookup goes on after this row group fails: check its pages first, and take back
  // whatever a decode that still fails half-way appended.
  RETURN_IF_ERROR(decoder->VerifyPages());
  otlp::SpanBatch& b = found.spans;
  const std::array<size_t, 8> sizes = {
      b.resources.size(), b.scopes.size(),     b.spans.size(),        b.events.size(),
      b.links.size(),     b.attributes.size(), b.array_values.size(), b.kvlist_values.size()};
  const BlockTables::BatchMap saved = map;
  absl::Status decoded = decoder->DecodeTraces(*segment, *segment + 1, tables, map, b);
  if (!decoded.ok()) {
    b.resources.resize(sizes[0]);
    b.scopes.resize(sizes[1]);
    b.spans.resize(sizes[2]);
    b.events.resize(sizes[3]);
    b.links.resize(sizes[4]);
    b.attributes.resize(sizes[5]);
    b.array_values.resize(sizes[6]);
    b.kvlist_values.resize(sizes[7]);
    map = saved;
  }
  return decoded;
}

absl::StatusOr<std::unique_ptr<RowGroupDecoder>> BlockReader::ReadWholeRowGroup(
    size_t index) const {
  if (index >= footer_.row_groups.size()) {
    return absl::OutOfRangeError("row group " + std::to_string(index) + " does not exist");
  }
  const RowGroupInfo& info = footer_.row_groups[index];
  ASSIGN_OR_RETURN(std::string bytes, ReadExactly(info.offset, info.size));
  return RowGroupDecoder::Open(std::move(bytes), info, index, path(), options_.max_page_bytes,
                               options_.verify_checksums);
}

absl::StatusOr<RowGroupData> BlockReader::ReadRowGroup(size_t index,
                                                       const BlockTables& tables) const {
  ASSIGN_OR_RETURN(std::unique_ptr<RowGroupDecoder> decoder, ReadWholeRowGroup(index));
  RETURN_IF_ERROR(decoder->LoadTraces());
  return DecodeRowGroup(*decoder, tables);
}

absl::StatusOr<std::unique_ptr<RowGroupDecoder>> BlockReader::OpenRowGroup(size_t index,
                                                                           bool load_traces) const {
  if (index >= footer_.row_groups.size()) {
    return absl::OutOfRangeError("row group " + std::to_string(index) + " does not exist");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RowGroupDecoder> decoder,
                   RowGroupDecoder::OpenLazy(*file_, footer_.row_groups[index], index, path(),
                                             options_.max_page_bytes, options_.verify_checksums));
  if (load_traces) RETURN_IF_ERROR(decoder->LoadTraces());
  return decoder;
}

absl::StatusOr<RowGroupData> BlockReader::DecodeRowGroup(RowGroupDecoder& decoder,
                                                         const BlockTables& tables) {
  RowGroupData data;
  BlockTables::BatchMap map = tables.NewBatchMap();
  RETURN_IF_ERROR(decoder.DecodeTraces(0, decoder.num_traces(), tables, map, data.batch));
  data.traces.reserve(decoder.num_traces());
  for (uint32_t i = 0; i < decoder.num_traces(); ++i) {
    data.traces.push_back(
        {decoder.trace_id(i), decoder.first_row(i), decoder.first_row(i) + decoder.row_count(i)});
  }
  return data;
}

absl::Status BlockReader::Scan(absl::FunctionRef<absl::Status(RowGroupData&&)> fn) const {
  ASSIGN_OR_RETURN(BlockTables tables, ReadTables());
  for (size_t i = 0; i < num_row_groups(); ++i) {
    ASSIGN_OR_RETURN(RowGroupData data, ReadRowGroup(i, tables));
    RETURN_IF_ERROR(fn(std::move(data)));
  }
  return absl::OkStatus();
}

absl::Status BlockReader::Verify() const {
  ASSIGN_OR_RETURN(BlockTables tables, ReadTables());
  RETURN_IF_ERROR(ReadStats().status());
  for (size_t i = 0; i < num_row_groups(); ++i) RETURN_IF_ERROR(VerifyRowGroup(i, tables));
  return absl::OkStatus();
}

absl::Status BlockReader::VerifyRowGroup(size_t index, const BlockTables& tables) const {
  ASSIGN_OR_RETURN(std::unique_ptr<RowGroupDecoder> decoder, ReadWholeRowGroup(index));
  RETURN_IF_ERROR(decoder->VerifyPages());
  RETURN_IF_ERROR(decoder->LoadTraces());
  otlp::SpanBatch batch;
  BlockTables::BatchMap map = tables.NewBatchMap();
  return decoder->DecodeTraces(0, decoder->num_traces(), tables, map, batch);
}

size_t BlockReader::MemoryUsage() const {
  return sizeof(*this) + footer_.MemoryUsage() + (bloom_.has_value() ? bloom_->MemoryUsage() : 0);
}

}  // namespace strand::block
