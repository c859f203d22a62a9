// $changeStream (MongoDB 6.0): an aggregation whose first stage is
// $changeStream reads the oplog (engine/oplog.h) from a start point and
// returns change events (engine/change_events.h) through the stages that
// follow it, as a tailable cursor that waits for the next commit and never
// ends until invalidated. Where it starts: after a resume token
// (resumeAfter; startAfter, also after an invalidate), at a time
// (startAtOperationTime), or at the newest entry. Its postBatchResumeToken
// is the point it has read to.
//
// Errors as mongod's: no oplog (a standalone server) 40573; $changeStream
// not first 40602; a stage not allowed after it IllegalOperation (20); more
// than one resume option 40674; a start point older than the oplog's first
// entry, or a position that fell off the oplog while reading,
// ChangeStreamHistoryLost (286); resumeAfter an invalidate
// InvalidResumeToken (260); a stage that changes an event's _id
// ChangeStreamFatalError (280). fullDocument whenAvailable / required and
// fullDocumentBeforeChange behave as for a collection without
// changeStreamPreAndPostImages (Docket keeps no pre- or post-images yet).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "docket/engine.h"
#include "engine/cursor_impl.h"
#include "engine/engine_impl.h"

namespace docket::aggregate {

// Whether the pipeline's first stage is $changeStream.
bool StartsWithChangeStream(const std::vector<Document>& stages);

// A change stream of collection db.`collection`, or with `collection` empty
// of database `db` (of the whole deployment for admin with
// allChangesForCluster: true).
Result<std::unique_ptr<CursorImpl>> OpenChangeStream(EngineImpl* engine, const std::string& db,
                                                     const std::string& collection,
                                                     const std::vector<Document>& stages,
                                                     const AggregateOptions& options);

}  // namespace docket::aggregate
