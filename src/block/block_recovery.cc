#include "block/block_recovery.h"

#include <memory>
#include <span>

#include "block/block_format.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace strand::block {
namespace {

// The u32 at `offset` of `file`, or 0 when the file is too short (OpenFile then reports
// it as damage).
absl::StatusOr<uint32_t> ReadFixed32At(const RandomAccessFile& file, uint64_t offset) {
  char scratch[4];
  ASSIGN_OR_RETURN(std::string_view got, file.Read(offset, std::span<char>(scratch)));
  return got.size() == 4 ? DecodeFixed32(got.data()) : 0;
}

// Stored bytes per part of the data file; they sum to its size (the format has no gaps).
std::vector<std::pair<std::string, uint64_t>> PartSizes(const BlockFooter& footer,
                                                        uint64_t data_size) {
  uint64_t columns = 0, directories = 0;
  for (const RowGroupInfo& rg : footer.row_groups) {
    columns += rg.size - rg.directory.stored_size;
    directories += rg.directory.stored_size;
  }
  const uint64_t bloom_end = footer.bloom.offset + footer.bloom.stored_size;
  return {{"bloom", footer.bloom.stored_size},
          {"footer", data_size - bloom_end},
          {"header", kHeaderSize},
          {"row_group.columns", columns},
          {"row_group.directory", directories},
          {"stats", footer.stats.stored_size},
          {"tables", footer.tables.stored_size}};
}

// The compaction fields of the writer's `meta.json.tmp` when it survived whole and
// describes this very data file (a crash between writing it and renaming it); else the
// meta as it is. A torn or foreign file is ignored: it is only a hint.
void TakeCompactionFromWriterMeta(Env& env, const std::string& block_dir, BlockMeta& meta) {
  const std::string tmp = JoinPath(block_dir, std::string(kMetaFileName) + ".tmp");
  if (!env.FileExists(tmp)) return;
  absl::StatusOr<std::string> json = env.ReadFileToString(tmp);
  if (!json.ok()) return;
  absl::StatusOr<BlockMeta> written = BlockMeta::FromJson(*json, tmp);
  if (!written.ok() || written->block_id != meta.block_id || written->data_size != meta.data_size ||
      written->header_checksum != meta.header_checksum ||
      written->footer_checksum != meta.footer_checksum) {
    return;
  }
  meta.compaction_level = written->compaction_level;
  meta.compacted_from = written->compacted_from;
}

}  // namespace

absl::StatusOr<BlockMeta> RebuildBlockMeta(Env& env, const std::string& block_dir,
                                           const std::string& tenant, int64_t now_unix_nano,
                                           BlockReaderOptions options) {
  options.verify_checksums = true;
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env.NewRandomAccessFile(JoinPath(block_dir, kDataFileName)));
  const std::string path = file->path();
  const uint64_t size = file->Size();
  ASSIGN_OR_RETURN(uint32_t header_checksum, ReadFixed32At(*file, kHeaderSize - 4));
  ASSIGN_OR_RETURN(uint32_t footer_checksum,
                   ReadFixed32At(*file, size < kTrailerSize ? size : size - kTrailerSize + 4));
  ASSIGN_OR_RETURN(std::unique_ptr<BlockReader> reader,
                   BlockReader::OpenFile(std::move(file), options));
  RETURN_IF_ERROR(reader->Verify());
  const BlockFooter& footer = reader->footer();
  if (footer.block_id.ToHex() != BaseName(block_dir)) {
    return Corruption(
        path, 16,
        "the data file is block " + footer.block_id.ToHex() + ", not the one its directory names");
  }
  BlockMeta meta = BlockMeta::FromFooter(footer, size, header_checksum, footer_checksum);
  meta.tenant = tenant;
  meta.created_unix_nano = now_unix_nano;
  meta.compaction_level = 0;
  meta.column_sizes = PartSizes(footer, size);
  TakeCompactionFromWriterMeta(env, block_dir, meta);
  return meta;
}

}  // namespace strand::block
