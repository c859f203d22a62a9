#include "engine/change_events.h"

#include <bson/bson.h>

#include <string_view>

#include "bson/append_element.h"
#include "bson/builder.h"

namespace docket::engine {
namespace {

Status NotAnEntry(const Document& entry) {
  return Status(ErrorCode::kInternalError, "not an oplog entry: " + entry.ToJson());
}

std::optional<std::string> StringField(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

std::optional<Document> DocumentField(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return std::nullopt;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  return Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
}

std::string UuidField(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_BINARY(&it)) return "";
  bson_subtype_t subtype;
  uint32_t len = 0;
  const uint8_t* bytes = nullptr;
  bson_iter_binary(&it, &subtype, &len, &bytes);
  return std::string(reinterpret_cast<const char*>(bytes), len);
}

// {_id: <the document's _id>}.
std::optional<Document> IdOf(const Document& doc) {
  bson_iter_t it;
  if (!doc.Find("_id", &it)) return std::nullopt;
  bson::Builder key;
  bson::AppendElement(key.get(), "_id", 3, &it);
  return key.Finish();
}

// "db.coll" split at the first dot.
void SplitNamespace(const std::string& ns, std::string* db, std::string* coll) {
  const size_t dot = ns.find('.');
  *db = ns.substr(0, dot);
  *coll = dot == std::string::npos ? "" : ns.substr(dot + 1);
}

bool IsInternalDatabase(std::string_view db) { return db == "admin" || db == "config" || db == "local"; }

// Whether a change to db.coll shows in the stream (system collections
// show only in a stream of that very collection, as MongoDB's).
bool InScope(const ChangeScope& scope, const std::string& db, const std::string& coll) {
  switch (scope.kind) {
    case ChangeScope::Kind::kCollection:
      return db == scope.db && coll == scope.collection;
    case ChangeScope::Kind::kDatabase:
      return db == scope.db && coll.rfind("system.", 0) != 0;
    case ChangeScope::Kind::kCluster:
      return !IsInternalDatabase(db) && coll.rfind("system.", 0) != 0;
  }
  return false;
}

Document NamespaceDocument(const std::string& db, const std::string& coll) {
  bson::Builder ns;
  BSON_APPEND_UTF8(ns.get(), "db", db.c_str());
  if (!coll.empty()) BSON_APPEND_UTF8(ns.get(), "coll", coll.c_str());
  return ns.Finish();
}

void DescribeDiff(const Document& diff, const std::string& prefix, bson_t* updated, std::vector<std::string>* removed,
                  std::vector<std::pair<std::string, int32_t>>* truncated);

// An array's diff at `path` (bson/update_diff.h).
void DescribeArrayDiff(const Document& diff, const std::string& path, bson_t* updated,
                       std::vector<std::string>* removed, std::vector<std::pair<std::string, int32_t>>* truncated) {
  bson_iter_t it;
  diff.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (key == "a") continue;
    if (key == "l") {
      truncated->emplace_back(path, static_cast<int32_t>(bson_iter_as_int64(&it)));
    } else if (key[0] == 'u') {
      const std::string field = path + "." + key.substr(1);
      bson::AppendElement(updated, field.c_str(), static_cast<int>(field.size()), &it);
    } else if (key[0] == 's' && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&it, &len, &data);
      const Document sub = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
      const std::string element = path + "." + key.substr(1);
      bson_iter_t marker;
      if (sub.Find("a", &marker)) DescribeArrayDiff(sub, element, updated, removed, truncated);
      else DescribeDiff(sub, element + ".", updated, removed, truncated);
    }
  }
}

void DescribeDiff(const Document& diff, const std::string& prefix, bson_t* updated, std::vector<std::string>* removed,
                  std::vector<std::pair<std::string, int32_t>>* truncated) {
  bson_iter_t it;
  diff.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&it, &len, &data);
    const Document section = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
    if (key == "d") {
      bson_iter_t field;
      section.Iterate(&field);
      while (bson_iter_next(&field)) removed->push_back(prefix + bson_iter_key(&field));
    } else if (key == "u" || key == "i") {
      bson_iter_t field;
      section.Iterate(&field);
      while (bson_iter_next(&field)) {
        const std::string path = prefix + bson_iter_key(&field);
        bson::AppendElement(updated, path.c_str(), static_cast<int>(path.size()), &field);
      }
    } else if (key.size() > 1 && key[0] == 's') {
      const std::string path = prefix + key.substr(1);
      bson_iter_t marker;
      if (section.Find("a", &marker)) DescribeArrayDiff(section, path, updated, removed, truncated);
      else DescribeDiff(section, path + ".", updated, removed, truncated);
    }
  }
}

// The fields every event of an entry shares.
ChangeEvent Base(const Document& entry, LogicalTime ts, uint32_t index) {
  ChangeEvent e;
  e.point = ResumePoint{ts, index, ResumePoint::Kind::kEvent};
  e.cluster_time = ts;
  bson_iter_t wall;
  if (entry.Find("wall", &wall) && BSON_ITER_HOLDS_DATE_TIME(&wall)) e.wall_millis = bson_iter_date_time(&wall);
  return e;
}

ChangeEvent Invalidate(const ChangeEvent& cause) {
  ChangeEvent e;
  e.point = cause.point;
  e.point.kind = ResumePoint::Kind::kInvalidate;
  e.operation_type = "invalidate";
  e.cluster_time = cause.cluster_time;
  e.wall_millis = cause.wall_millis;
  e.invalidates = true;
  return e;
}

// The events of one operation (an entry, or an item of its applyOps).
Status EventsFromOperation(const Document& entry, const Document& op, LogicalTime ts, uint32_t index,
                           const ChangeScope& scope, bool show_expanded, std::vector<ChangeEvent>* out) {
  const auto kind = StringField(op, "op");
  const auto ns = StringField(op, "ns");
  if (!kind || !ns) return NotAnEntry(entry);
  if (*kind == "n") return Status::OK();
  auto o = DocumentField(op, "o");
  if (!o) return NotAnEntry(entry);
  ChangeEvent e = Base(entry, ts, index);
  e.uuid = UuidField(op, "ui");
  e.lsid = DocumentField(entry, "lsid");
  bson_iter_t txn;
  if (entry.Find("txnNumber", &txn) && BSON_ITER_HOLDS_INT64(&txn)) e.txn_number = bson_iter_int64(&txn);
  SplitNamespace(*ns, &e.db, &e.coll);
  if (*kind == "i" || *kind == "u" || *kind == "d") {
    if (!InScope(scope, e.db, e.coll)) return Status::OK();
    if (*kind == "i") {
      e.operation_type = "insert";
      e.full_document = *o;
      e.document_key = IdOf(*o);
    } else if (*kind == "d") {
      e.operation_type = "delete";
      e.document_key = IdOf(*o);
    } else {
      e.document_key = DocumentField(op, "o2");
      bson_iter_t version;
      if (o->Find("$v", &version)) {
        auto diff = DocumentField(*o, "diff");
        if (!diff) return NotAnEntry(entry);
        e.operation_type = "update";
        e.update_description = UpdateDescriptionFromDiff(*diff);
      } else {
        e.operation_type = "replace";
        e.full_document = *o;
      }
    }
    out->push_back(std::move(e));
    return Status::OK();
  }
  if (*kind != "c") return NotAnEntry(entry);
  bson_iter_t first;
  o->Iterate(&first);
  if (!bson_iter_next(&first)) return NotAnEntry(entry);
  const std::string command = bson_iter_key(&first);
  if (command == "applyOps") {
    bson_iter_t items, item;
    if (!BSON_ITER_HOLDS_ARRAY(&first) || !bson_iter_recurse(&first, &items)) return NotAnEntry(entry);
    uint32_t i = 0;
    while (bson_iter_next(&items)) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&items)) return NotAnEntry(entry);
      item = items;
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&item, &len, &data);
      const Document one = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
      DOCKET_RETURN_IF_ERROR(EventsFromOperation(entry, one, ts, i++, scope, show_expanded, out));
    }
    return Status::OK();
  }
  const std::string db = e.db;
  auto target = StringField(*o, command.c_str());
  if (command == "dropDatabase") {
    e.coll.clear();
    if (scope.kind == ChangeScope::Kind::kCollection || (scope.kind == ChangeScope::Kind::kDatabase && scope.db != db) ||
        (scope.kind == ChangeScope::Kind::kCluster && IsInternalDatabase(db))) {
      return Status::OK();
    }
    e.operation_type = "dropDatabase";
    out->push_back(e);
    if (scope.kind == ChangeScope::Kind::kDatabase) out->push_back(Invalidate(e));
    return Status::OK();
  }
  if (command == "renameCollection") {
    auto to = StringField(*o, "to");
    if (!target || !to) return NotAnEntry(entry);
    SplitNamespace(*target, &e.db, &e.coll);
    std::string to_db, to_coll;
    SplitNamespace(*to, &to_db, &to_coll);
    if (!InScope(scope, e.db, e.coll)) return Status::OK();
    e.operation_type = "rename";
    e.to = NamespaceDocument(to_db, to_coll);
    if (show_expanded) {
      bson::Builder description;
      bson::AppendDocument(description.get(), "to", *e.to);
      bson_iter_t drop_target;
      if (o->Find("dropTarget", &drop_target) && BSON_ITER_HOLDS_BINARY(&drop_target)) {
        bson::AppendElement(description.get(), "dropTarget", 10, &drop_target);
      }
      e.operation_description = description.Finish();
    }
    out->push_back(e);
    if (scope.kind == ChangeScope::Kind::kCollection) out->push_back(Invalidate(e));
    return Status::OK();
  }
  if (!target) return NotAnEntry(entry);
  e.coll = *target;
  if (!InScope(scope, e.db, e.coll)) return Status::OK();
  if (command == "drop") {
    e.operation_type = "drop";
    out->push_back(e);
    if (scope.kind == ChangeScope::Kind::kCollection) out->push_back(Invalidate(e));
    return Status::OK();
  }
  if (!show_expanded) return Status::OK();
  bson::Builder description;
  if (command == "create") {
    e.operation_type = "create";
    bson_iter_t field;
    o->Iterate(&field);
    bson_iter_next(&field);  // past `create`
    while (bson_iter_next(&field)) bson::AppendElement(description.get(), bson_iter_key(&field), -1, &field);
  } else if (command == "createIndexes" || command == "dropIndexes") {
    e.operation_type = command;
    std::optional<Document> spec;
    if (command == "dropIndexes") {
      spec = DocumentField(op, "o2");
    } else {
      bson::Builder built;
      bson_iter_t field;
      o->Iterate(&field);
      bson_iter_next(&field);
      while (bson_iter_next(&field)) bson::AppendElement(built.get(), bson_iter_key(&field), -1, &field);
      spec = built.Finish();
    }
    bson_t indexes;
    BSON_APPEND_ARRAY_BEGIN(description.get(), "indexes", &indexes);
    if (spec) bson::AppendDocument(&indexes, "0", *spec);
    bson_append_array_end(description.get(), &indexes);
  } else if (command == "collMod") {
    e.operation_type = "modify";
    bson_iter_t field;
    o->Iterate(&field);
    bson_iter_next(&field);
    while (bson_iter_next(&field)) bson::AppendElement(description.get(), bson_iter_key(&field), -1, &field);
  } else {
    return Status::OK();  // a command change streams do not report
  }
  e.operation_description = description.Finish();
  out->push_back(std::move(e));
  return Status::OK();
}

}  // namespace

Status EventsFromEntry(const Document& entry, const ChangeScope& scope, bool show_expanded,
                       std::vector<ChangeEvent>* out) {
  bson_iter_t ts_it;
  if (!entry.Find("ts", &ts_it) || !BSON_ITER_HOLDS_TIMESTAMP(&ts_it)) return NotAnEntry(entry);
  LogicalTime ts;
  bson_iter_timestamp(&ts_it, &ts.seconds, &ts.increment);
  return EventsFromOperation(entry, entry, ts, 0, scope, show_expanded, out);
}

Document UpdateDescriptionFromDiff(const Document& diff) {
  bson::Builder updated;
  std::vector<std::string> removed;
  std::vector<std::pair<std::string, int32_t>> truncated;
  DescribeDiff(diff, "", updated.get(), &removed, &truncated);
  bson::Builder out;
  bson::AppendDocument(out.get(), "updatedFields", updated.Finish());
  bson_t list, item;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "removedFields", &list);
  for (size_t i = 0; i < removed.size(); ++i) BSON_APPEND_UTF8(&list, std::to_string(i).c_str(), removed[i].c_str());
  bson_append_array_end(out.get(), &list);
  BSON_APPEND_ARRAY_BEGIN(out.get(), "truncatedArrays", &list);
  for (size_t i = 0; i < truncated.size(); ++i) {
    BSON_APPEND_DOCUMENT_BEGIN(&list, std::to_string(i).c_str(), &item);
    BSON_APPEND_UTF8(&item, "field", truncated[i].first.c_str());
    BSON_APPEND_INT32(&item, "newSize", truncated[i].second);
    bson_append_document_end(&list, &item);
  }
  bson_append_array_end(out.get(), &list);
  return out.Finish();
}

Document EventDocument(const ChangeEvent& event, bool show_expanded,
                       const std::optional<std::optional<Document>>& looked_up) {
  bson::Builder out;
  bson::AppendDocument(out.get(), "_id", EncodeResumeToken(event.point));
  BSON_APPEND_UTF8(out.get(), "operationType", event.operation_type.c_str());
  BSON_APPEND_TIMESTAMP(out.get(), "clusterTime", event.cluster_time.seconds, event.cluster_time.increment);
  BSON_APPEND_DATE_TIME(out.get(), "wallTime", event.wall_millis);
  if (show_expanded && !event.uuid.empty()) {
    BSON_APPEND_BINARY(out.get(), "collectionUUID", BSON_SUBTYPE_UUID,
                       reinterpret_cast<const uint8_t*>(event.uuid.data()), static_cast<uint32_t>(event.uuid.size()));
  }
  if (event.full_document) {
    bson::AppendDocument(out.get(), "fullDocument", *event.full_document);
  } else if (looked_up) {
    if (*looked_up) bson::AppendDocument(out.get(), "fullDocument", **looked_up);
    else BSON_APPEND_NULL(out.get(), "fullDocument");
  }
  if (!event.invalidates) bson::AppendDocument(out.get(), "ns", NamespaceDocument(event.db, event.coll));
  if (event.to) bson::AppendDocument(out.get(), "to", *event.to);
  if (event.document_key) bson::AppendDocument(out.get(), "documentKey", *event.document_key);
  if (event.update_description) bson::AppendDocument(out.get(), "updateDescription", *event.update_description);
  if (event.operation_description) {
    bson::AppendDocument(out.get(), "operationDescription", *event.operation_description);
  }
  if (event.lsid) bson::AppendDocument(out.get(), "lsid", *event.lsid);
  if (event.txn_number >= 0) BSON_APPEND_INT64(out.get(), "txnNumber", event.txn_number);
  return out.Finish();
}

}  // namespace docket::engine
