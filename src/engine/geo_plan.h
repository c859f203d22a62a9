// Geo reads (docs/design/geospatial.md §6.4): which 2dsphere index answers a
// $near or a $geoWithin / $geoIntersects, and which ranges of its cell keys
// to read. Geo plans are never exact: every document read is matched again
// (and, for $near, measured and ordered by the reader).
#pragma once

#include <memory>
#include <optional>

#include "docket/document.h"
#include "docket/status.h"
#include "index/planner.h"
#include "storage/catalog.h"

namespace docket::engine {

// Whether `filter` has a $near / $nearSphere / $geoNear where MongoDB allows
// one (the top level, under $and, or a one-clause $or): then a 2dsphere
// index must answer it.
bool HasNearOperator(const Document& filter);

// The plan of the filter's $near: the collection's 2dsphere index on the
// $near's field (`hinted`, when not null, must be it), read over the cells
// of the cap of the query's $maxDistance (every entry without one).
// Errors: NoQueryExecutionPlans (291) "unable to find index for $geoNear
// query" — a legacy $near (flat distances) needs a 2d index, which Docket
// does not build; the $near's parse errors. REQUIRES: entry.lifecycle held.
Result<index::Plan> PlanNear(const storage::CollectionEntry& entry, const Document& filter,
                             const index::Index* hinted, bool describe);

// PlanNear over the cap of `radius` (the query's units) instead of its
// $maxDistance: one ring of a nearest-first read (engine/near_rings.h).
Result<index::Plan> PlanNearWithin(const storage::CollectionEntry& entry, const Document& filter,
                                   const index::Index* hinted, double radius);

// A plan for the filter's first spherical $geoWithin / $geoIntersects
// (top level or under $and) whose field a 2dsphere index covers: the cells
// covering the region, each with its ancestors. With `hinted`, only that
// index. Nothing when no such index or predicate. REQUIRES: entry.lifecycle
// held.
std::optional<index::Plan> PlanGeoRegion(const storage::CollectionEntry& entry, const Document& filter,
                                         const index::Index* hinted, bool describe);

// Whether `index` has a 2dsphere field: it holds only documents with a
// geometry there, so it may answer geo predicates only.
bool IsGeoIndex(const index::Index& index);

}  // namespace docket::engine
