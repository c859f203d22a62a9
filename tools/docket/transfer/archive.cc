#include "tools/docket/transfer/archive.h"

#include <cstring>

namespace docket::transfer {
namespace {

constexpr uint32_t kMagic = 0x8199e26d;
constexpr uint32_t kTerminator = 0xffffffff;
constexpr char kFormatVersion[] = "0.1";

void WriteUint32(ByteWriter* out, uint32_t value) {
  const uint8_t bytes[4] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
                            static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
  out->Write(bytes, 4);
}

uint32_t DecodeUint32(const uint8_t bytes[4]) {
  return static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
         static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24;
}

}  // namespace

ArchiveWriter::ArchiveWriter(ByteWriter* out, const std::string& server_version, const std::string& tool_version,
                             const std::vector<ArchiveCollection>& prelude)
    : out_(out) {
  WriteUint32(out_, kMagic);
  BsonPtr header = NewBson();
  BSON_APPEND_INT32(header.get(), "concurrent_collections", 1);
  BSON_APPEND_UTF8(header.get(), "version", kFormatVersion);
  BSON_APPEND_UTF8(header.get(), "server_version", server_version.c_str());
  BSON_APPEND_UTF8(header.get(), "tool_version", tool_version.c_str());
  out_->WriteDocument(header.get());
  for (const ArchiveCollection& c : prelude) {
    BsonPtr entry = NewBson();
    BSON_APPEND_UTF8(entry.get(), "db", c.db.c_str());
    BSON_APPEND_UTF8(entry.get(), "collection", c.collection.c_str());
    BSON_APPEND_UTF8(entry.get(), "metadata", c.metadata_json.c_str());
    BSON_APPEND_INT32(entry.get(), "size", 0);
    BSON_APPEND_UTF8(entry.get(), "type", c.type.c_str());
    out_->WriteDocument(entry.get());
  }
  WriteUint32(out_, kTerminator);
}

void ArchiveWriter::WriteHeader(bool eof, uint64_t crc) {
  BsonPtr header = NewBson();
  BSON_APPEND_UTF8(header.get(), "db", db_.c_str());
  BSON_APPEND_UTF8(header.get(), "collection", collection_.c_str());
  BSON_APPEND_BOOL(header.get(), "EOF", eof);
  BSON_APPEND_INT64(header.get(), "CRC", static_cast<int64_t>(crc));  // the bits of the uint64
  out_->WriteDocument(header.get());
}

void ArchiveWriter::BeginCollection(const std::string& db, const std::string& collection) {
  db_ = db;
  collection_ = collection;
  in_segment_ = false;
  crc_ = Crc64();
}

void ArchiveWriter::WriteDocument(const bson_t* doc) {
  if (!in_segment_) {
    WriteHeader(false, 0);
    in_segment_ = true;
  }
  out_->WriteDocument(doc);
  crc_.Update(bson_get_data(doc), doc->len);
}

void ArchiveWriter::EndCollection() {
  if (in_segment_) WriteUint32(out_, kTerminator);
  in_segment_ = false;
  WriteHeader(true, crc_.value());
  WriteUint32(out_, kTerminator);
}

ArchiveReader::ArchiveReader(ByteReader* in) : in_(in) {
  uint8_t magic[4];
  if (!in_->ReadExactly(magic, 4, "the archive's magic number") || DecodeUint32(magic) != kMagic)
    throw TransferError(in_->path() + " is not a mongodump archive (its first bytes are not the archive magic number)");
  std::optional<BsonPtr> header = in_->ReadDocument();
  if (!header) throw TransferError(in_->path() + ": the archive ends before its header");
  const std::string version = StringField(header->get(), "version");
  if (version != kFormatVersion)
    throw TransferError(in_->path() + ": archive format version \"" + version + "\" is not known (only 0.1)");
  server_version_ = StringField(header->get(), "server_version");
  tool_version_ = StringField(header->get(), "tool_version");
  for (;;) {
    uint8_t prefix[4];
    if (!in_->ReadExactly(prefix, 4, "the archive's prelude"))
      throw TransferError(in_->path() + ": the archive ends inside its prelude");
    const uint32_t length = DecodeUint32(prefix);
    if (length == kTerminator) break;
    std::optional<BsonPtr> entry = in_->ReadDocument(prefix);
    ArchiveCollection c;
    c.db = StringField(entry->get(), "db");
    c.collection = StringField(entry->get(), "collection");
    c.metadata_json = StringField(entry->get(), "metadata");
    c.type = StringField(entry->get(), "type");
    if (c.collection.empty()) throw TransferError(in_->path() + ": a prelude entry names no collection");
    prelude_.push_back(std::move(c));
  }
}

std::optional<ArchiveReader::Event> ArchiveReader::Next() {
  for (;;) {
    uint8_t prefix[4];
    if (!in_->ReadExactly(prefix, 4, "a namespace block")) {
      if (current_) throw TransferError(in_->path() + ": the archive ends inside the documents of " +
                                        current_->first + "." + current_->second + ": it is truncated");
      return std::nullopt;
    }
    const uint32_t length = DecodeUint32(prefix);
    if (current_) {
      if (length == kTerminator) {
        current_.reset();
        continue;
      }
      std::optional<BsonPtr> doc = in_->ReadDocument(prefix);
      crcs_[*current_].Update(bson_get_data(doc->get()), doc->get()->len);
      return Event{current_->first, current_->second, std::move(*doc)};
    }
    if (length == kTerminator) throw TransferError(in_->path() + ": a terminator where a namespace header belongs");
    BsonPtr header = ReadHeaderDocument(prefix);
    std::pair<std::string, std::string> ns{StringField(header.get(), "db"), StringField(header.get(), "collection")};
    bson_iter_t it;
    const bool eof = bson_iter_init_find(&it, header.get(), "EOF") && BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
    if (!eof) {
      current_ = ns;
      continue;
    }
    uint64_t expected = 0;
    if (bson_iter_init_find(&it, header.get(), "CRC") && BSON_ITER_HOLDS_INT64(&it))
      expected = static_cast<uint64_t>(bson_iter_int64(&it));
    const uint64_t actual = crcs_[ns].value();
    if (expected != actual)
      throw TransferError(in_->path() + ": the documents of " + ns.first + "." + ns.second +
                          " do not match the archive's checksum: the archive is damaged");
    uint8_t terminator[4];
    if (!in_->ReadExactly(terminator, 4, "an EOF block") || DecodeUint32(terminator) != kTerminator)
      throw TransferError(in_->path() + ": an EOF header without its terminator");
    return Event{ns.first, ns.second, nullptr};
  }
}

BsonPtr ArchiveReader::ReadHeaderDocument(const uint8_t* first_four) {
  std::optional<BsonPtr> header = in_->ReadDocument(first_four);
  // The db is empty for the oplog mongodump --oplog adds ("" . "oplog").
  if (StringField(header->get(), "collection").empty())
    throw TransferError(in_->path() + ": a namespace header without a collection (at byte " +
                        std::to_string(in_->offset()) + ")");
  return std::move(*header);
}

}  // namespace docket::transfer
