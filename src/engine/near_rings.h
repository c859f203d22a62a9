// $near read ring by ring (docs/design/geospatial.md §6.4): a query that
// wants only the nearest k documents reads the 2dsphere index over caps of
// doubling radius about the centre, and stops once it has k, instead of
// reading every entry within its $maxDistance.
#pragma once

#include <deque>

#include "docket/document.h"
#include "docket/status.h"
#include "engine/engine_impl.h"
#include "index/index.h"
#include "query/filter.h"
#include "storage/catalog.h"

namespace docket::engine {

// The first `keep` matches of `filter` (compiled from `filter_doc`, which
// has a $near) nearest first; equal distances in index order. Reads caps of
// radius r, 2r, 4r, ... (query units; r = 1 km, or its angle for a legacy
// $nearSphere, or the $minDistance if larger) up to the $maxDistance (or
// half the earth's circumference), taking from each cap the matches beyond
// the previous one's radius: each match is read in exactly one ring, and a
// ring's matches are all nearer than the next ring's. Outside a transaction
// each ring reads its own snapshot (as MongoDB's $near yields between
// rings): a document moved meanwhile may be missed, never returned twice.
// `hinted`: the index a hint named (PlanNear's rule). Errors: PlanNear's
// (291), read errors, $expr errors, MaxTimeMSExpired.
// REQUIRES: entry.lifecycle held (shared).
Result<std::deque<Document>> NearestMatches(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                            const storage::CollectionEntry& entry, const Document& filter_doc,
                                            const query::Filter& filter, const index::Index* hinted, size_t keep);

}  // namespace docket::engine
