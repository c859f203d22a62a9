#include "engine/oplog.h"

#include <bson/bson.h>

#include <rocksdb/iterator.h>

#include <chrono>
#include <string>

#include "bson/builder.h"
#include "engine/capped.h"
#include "engine/indexes.h"
#include "storage/keys.h"
#include "storage/record_value.h"

namespace docket::engine {
namespace {

constexpr int64_t kTerm = 1;           // a one-member set's only term
constexpr int64_t kEntryVersion = 2;   // MongoDB's oplog entry version `v`

void AppendUuid(bson_t* out, const char* key, const std::string& uuid) {
  BSON_APPEND_BINARY(out, key, BSON_SUBTYPE_UUID, reinterpret_cast<const uint8_t*>(uuid.data()),
                     static_cast<uint32_t>(uuid.size()));
}

// op, ns, ui, o, o2 of one change: an entry's first fields, or an applyOps item.
void AppendChange(bson_t* out, const OplogChange& change) {
  const char op[2] = {change.op, '\0'};
  BSON_APPEND_UTF8(out, "op", op);
  BSON_APPEND_UTF8(out, "ns", change.ns.c_str());
  if (!change.uuid.empty()) AppendUuid(out, "ui", change.uuid);
  bson::AppendDocument(out, "o", change.o);
  if (change.o2) bson::AppendDocument(out, "o2", *change.o2);
}

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendStamp(bson_t* out, LogicalTime ts, int64_t wall) {
  BSON_APPEND_TIMESTAMP(out, "ts", ts.seconds, ts.increment);
  BSON_APPEND_INT64(out, "t", kTerm);
  BSON_APPEND_INT64(out, "v", kEntryVersion);
  BSON_APPEND_DATE_TIME(out, "wall", wall);
}

Document TransactionEntry(const std::vector<OplogChange>& changes, const OplogSession& session, LogicalTime ts,
                          int64_t wall) {
  bson::Builder entry;
  if (!session.lsid.empty()) bson::AppendDocument(entry.get(), "lsid", session.lsid);
  if (session.txn_number >= 0) BSON_APPEND_INT64(entry.get(), "txnNumber", session.txn_number);
  BSON_APPEND_UTF8(entry.get(), "op", "c");
  BSON_APPEND_UTF8(entry.get(), "ns", "admin.$cmd");
  bson_t o, ops, item;
  BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "o", &o);
  BSON_APPEND_ARRAY_BEGIN(&o, "applyOps", &ops);
  for (size_t i = 0; i < changes.size(); ++i) {
    const std::string index = std::to_string(i);
    BSON_APPEND_DOCUMENT_BEGIN(&ops, index.c_str(), &item);
    AppendChange(&item, changes[i]);
    bson_append_document_end(&ops, &item);
  }
  bson_append_array_end(&o, &ops);
  bson_append_document_end(entry.get(), &o);
  AppendStamp(entry.get(), ts, wall);
  bson_t prev;
  BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "prevOpTime", &prev);
  BSON_APPEND_TIMESTAMP(&prev, "ts", 0, 0);
  BSON_APPEND_INT64(&prev, "t", -1);
  bson_append_document_end(entry.get(), &prev);
  return entry.Finish();
}

Document ChangeEntry(const OplogChange& change, LogicalTime ts, int64_t wall) {
  bson::Builder entry;
  AppendChange(entry.get(), change);
  AppendStamp(entry.get(), ts, wall);
  return entry.Finish();
}

}  // namespace

std::string OplogEntryKey(uint64_t collection_id, LogicalTime ts) {
  bson::Builder holder;
  BSON_APPEND_TIMESTAMP(holder.get(), "ts", ts.seconds, ts.increment);
  const Document doc = holder.Finish();
  bson_iter_t it;
  doc.Iterate(&it);
  bson_iter_next(&it);
  return storage::RecordKey(collection_id, it);
}

bool IsLogged(const EngineImpl* engine, const storage::CollectionEntry& entry) {
  return engine->oplog != nullptr && entry.db != kOplogDatabase && entry.name != "system.profile";
}

Status RefuseOplogWrite(const EngineImpl* engine, const storage::EntryPtr& entry) {
  if (entry == nullptr || entry != engine->oplog) return Status::OK();
  return Status(ErrorCode::kInvalidNamespace,
                "cannot write to '" + entry->db + "." + entry->name + "': only the server writes its oplog");
}

Document CreateCommand(std::string_view name, const CollectionOptions& options) {
  bson::Builder o;
  bson_append_utf8(o.get(), "create", 6, name.data(), static_cast<int>(name.size()));
  if (options.view_on) {
    BSON_APPEND_UTF8(o.get(), "viewOn", options.view_on->c_str());
    bson_t pipeline;
    BSON_APPEND_ARRAY_BEGIN(o.get(), "pipeline", &pipeline);
    for (size_t i = 0; i < options.pipeline.size(); ++i) {
      bson::AppendDocument(&pipeline, std::to_string(i).c_str(), options.pipeline[i]);
    }
    bson_append_array_end(o.get(), &pipeline);
    return o.Finish();
  }
  if (options.capped) {
    BSON_APPEND_BOOL(o.get(), "capped", true);
    if (options.size) BSON_APPEND_INT64(o.get(), "size", *options.size);
    if (options.max) BSON_APPEND_INT64(o.get(), "max", *options.max);
  }
  if (!options.validator.empty()) bson::AppendDocument(o.get(), "validator", options.validator);
  text::CollatorPtr collation;
  if (!options.collation.empty()) {
    auto made = text::Collator::Make(options.collation);  // made already by the create being logged
    if (made.ok()) collation = std::move(made).value();
  }
  if (collation != nullptr) bson::AppendDocument(o.get(), "collation", collation->spec());
  bson::AppendDocument(o.get(), "idIndex", IdIndexSpec(collation.get()));
  return o.Finish();
}

Status LogCommand(EngineImpl* engine, std::string_view db, const std::string& uuid, const Document& o,
                  std::optional<Document> o2) {
  if (engine->oplog == nullptr || db == kOplogDatabase) return Status::OK();
  return RunWriteWithRetry(engine, WriteOptions(), [&](WriteUnit& unit) -> Status {
    unit.noted_changes().push_back(OplogChange{'c', std::string(db) + ".$cmd", uuid, o, o2});
    return Status::OK();
  });
}

Status OpenOplog(Engine* owner, EngineImpl* engine, int64_t size_bytes) {
  const std::string db(kOplogDatabase), name(kOplogCollection);
  const bool created = engine->catalog->Find(db, name) == nullptr;
  if (created) {
    CollectionOptions options;
    options.capped = true;
    options.size = size_bytes;
    DOCKET_RETURN_IF_ERROR(owner->CreateCollection(db, name, options));
  }
  storage::EntryPtr oplog = engine->catalog->Find(db, name);
  if (oplog == nullptr || !oplog->capped) {
    return Status(ErrorCode::kInvalidOptions, "local.oplog.rs exists and is not a capped collection");
  }
  FindOptions newest;
  newest.sort = Document::FromJson(R"({"$natural": -1})").value();
  newest.limit = 1;
  auto cursor = owner->collection(db, name).Find(Document(), newest);
  if (!cursor.ok()) return cursor.status();
  auto last = cursor->ToVector();
  if (!last.ok()) return last.status();
  if (!last->empty()) {
    bson_iter_t ts;
    if (!(*last)[0].Find("ts", &ts) || !BSON_ITER_HOLDS_TIMESTAMP(&ts)) {
      return Status(ErrorCode::kInvalidOptions, "local.oplog.rs holds an entry without a ts: not an oplog");
    }
    LogicalTime t;
    bson_iter_timestamp(&ts, &t.seconds, &t.increment);
    DOCKET_RETURN_IF_ERROR(engine->clock.Advance(t));
  }
  engine->oplog = std::move(oplog);
  if (!created) return Status::OK();
  // As a new replica set's first entry: a no-op that marks where history
  // starts (a change stream asked to start before it has lost its history).
  bson::Builder message;
  BSON_APPEND_UTF8(message.get(), "msg", "initiating set");
  const Document o = message.Finish();
  return RunWriteWithRetry(engine, WriteOptions(), [&](WriteUnit& unit) -> Status {
    unit.noted_changes().push_back(OplogChange{'n', "", "", o, std::nullopt});
    return Status::OK();
  });
}

Result<OplogStart> OplogStartBefore(EngineImpl* engine, LogicalTime t) {
  const uint64_t id = engine->oplog->id;
  OplogStart start;
  std::unique_ptr<rocksdb::Iterator> it(engine->db()->NewIterator(rocksdb::ReadOptions()));
  const std::string lower = storage::RecordPrefix(id);
  it->Seek(lower);
  if (!it->status().ok()) return Status(ErrorCode::kInternalError, "reading the oplog: " + it->status().ToString());
  if (!it->Valid() || !it->key().starts_with(lower)) return start;  // an empty oplog
  const Document oldest = Document::FromTrustedBytes(
      std::string(storage::RecordDocument(std::string_view(it->value().data(), it->value().size()))));
  bson_iter_t ts;
  if (oldest.Find("ts", &ts) && BSON_ITER_HOLDS_TIMESTAMP(&ts)) {
    LogicalTime first;
    bson_iter_timestamp(&ts, &first.seconds, &first.increment);
    start.history_lost = t < first;
  }
  const std::string key = OplogEntryKey(id, t);
  it->SeekForPrev(key);
  if (it->Valid() && it->key().starts_with(lower) && it->key().compare(key) == 0) it->Prev();
  if (it->Valid() && it->key().starts_with(lower)) {
    start.after_sequence = storage::RecordSequence(std::string_view(it->value().data(), it->value().size()));
  }
  return start;
}

std::pair<uint64_t, LogicalTime> NewestOplogEntry(EngineImpl* engine) {
  const uint64_t id = engine->oplog->id;
  std::unique_ptr<rocksdb::Iterator> it(engine->db()->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(storage::RecordRangeEnd(id));
  if (it->Valid() && it->key().compare(storage::RecordRangeEnd(id)) == 0) it->Prev();
  if (!it->Valid() || !it->key().starts_with(storage::RecordPrefix(id))) return {0, engine->clock.LastWrite()};
  const std::string_view value(it->value().data(), it->value().size());
  const Document entry = Document::FromTrustedBytes(std::string(storage::RecordDocument(value)));
  LogicalTime t = engine->clock.LastWrite();
  bson_iter_t ts;
  if (entry.Find("ts", &ts) && BSON_ITER_HOLDS_TIMESTAMP(&ts)) bson_iter_timestamp(&ts, &t.seconds, &t.increment);
  return {storage::RecordSequence(value), t};
}

OplogAppender::OplogAppender(EngineImpl* engine, rocksdb::Transaction* txn)
    : engine_(engine), unit_(engine, txn, WriteUnit::kSharedTransaction) {}

OplogAppender::~OplogAppender() {
  if (reserved_) engine_->clock.Abandon();  // before unit_ releases the oplog's lock
}

Status OplogAppender::Append(const std::vector<OplogChange>& changes, const OplogSession* session) {
  const storage::CollectionEntry& oplog = *engine_->oplog;
  DOCKET_RETURN_IF_ERROR(unit_.EnterCapped(oplog));
  const uint32_t count = session != nullptr ? 1 : static_cast<uint32_t>(changes.size());
  LogicalTime ts = engine_->clock.Reserve(count);
  reserved_ = true;
  const int64_t wall = WallMillis();
  auto write = [&](const Document& entry) -> Status {
    auto sequence = engine_->store->NextRecordSequence();
    if (!sequence.ok()) return sequence.status();
    DOCKET_RETURN_IF_ERROR(WriteNewRecord(unit_, oplog, OplogEntryKey(oplog.id, ts), entry, *sequence, /*lock_key=*/false));
    unit_.NoteCappedChange(static_cast<int64_t>(entry.size()), 1, 0, /*inserted=*/true);
    ts.increment++;
    return RemoveOverLimits(unit_, oplog, *sequence);
  };
  if (session != nullptr) return write(TransactionEntry(changes, *session, ts, wall));
  for (const OplogChange& change : changes) DOCKET_RETURN_IF_ERROR(write(ChangeEntry(change, ts, wall)));
  return Status::OK();
}

void OplogAppender::Committed() {
  if (reserved_) engine_->clock.Publish();  // before the lock goes: the next writer reserves after it
  reserved_ = false;
  unit_.PublishCapped();
}

}  // namespace docket::engine
