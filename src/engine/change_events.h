// Change stream events (MongoDB's $changeStream output) from oplog entries
// (engine/oplog.h): which entries a stream of a collection, a database or
// the whole deployment sees, and the events they make.
//
// Events: insert, update (updateDescription read from the $v: 2 diff),
// replace, delete, drop, rename, dropDatabase and invalidate; with
// showExpandedEvents also create, createIndexes, dropIndexes and modify, and
// collectionUUID on every event that has one. A transaction's entry makes
// one event per statement, each with lsid and txnNumber. A collection's
// stream is invalidated by its drop or rename, a database's by its drop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "engine/resume_token.h"

namespace docket::engine {

struct ChangeScope {
  enum class Kind { kCollection, kDatabase, kCluster };
  Kind kind = Kind::kCollection;
  std::string db;          // kCollection, kDatabase
  std::string collection;  // kCollection
};

struct ChangeEvent {
  ResumePoint point;
  std::string operation_type;
  LogicalTime cluster_time;
  int64_t wall_millis = 0;
  std::string db, coll;  // coll empty for dropDatabase and invalidate
  std::string uuid;      // the collection's, when the entry names one
  std::optional<Document> full_document;  // insert, replace
  std::optional<Document> document_key;   // insert, update, replace, delete
  std::optional<Document> update_description;
  std::optional<Document> to;                     // rename: {db, coll}
  std::optional<Document> operation_description;  // expanded events
  std::optional<Document> lsid;
  int64_t txn_number = -1;
  bool invalidates = false;  // the stream ends after it
};

// Appends the events `entry` makes for a stream of `scope`, in order.
// Errors: InternalError for an entry that is not in the oplog's format.
Status EventsFromEntry(const Document& entry, const ChangeScope& scope, bool show_expanded,
                       std::vector<ChangeEvent>* out);

// The event as the stream returns it, with `full_document` as its
// fullDocument when given (an update's looked-up document, or null).
Document EventDocument(const ChangeEvent& event, bool show_expanded,
                       const std::optional<std::optional<Document>>& looked_up = std::nullopt);

// updateDescription ({updatedFields, removedFields, truncatedArrays}) of a
// $v: 2 diff (bson/update_diff.h).
Document UpdateDescriptionFromDiff(const Document& diff);

}  // namespace docket::engine
