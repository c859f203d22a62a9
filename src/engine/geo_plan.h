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
// of the cap of the query's $maxDistance (every entry without one); for a
// legacy centre without such an index ($near, flat; or $nearSphere), a 2d
// index on the field, read over the geohash cells of the box around the
// disc. Errors: NoQueryExecutionPlans (291) "unable to find index for
// $geoNear query" (a legacy $near needs a 2d index); the $near's parse
// errors. REQUIRES: entry.lifecycle held.
Result<index::Plan> PlanNear(const storage::CollectionEntry& entry, const Document& filter,
                             const index::Index* hinted, bool describe);

// PlanNear over the cap of `radius` (the query's units) instead of its
// $maxDistance: one ring of a nearest-first read (engine/near_rings.h).
Result<index::Plan> PlanNearWithin(const storage::CollectionEntry& entry, const Document& filter,
                                   const index::Index* hinted, double radius);

// A plan for the filter's first $geoWithin / $geoIntersects (top level or
// under $and) that a geo index on its field can answer: for a spherical
// region a 2dsphere index's cells covering it (each with its ancestors);
// for $box, $polygon, $center and $centerSphere a 2d index's geohash cells
// covering its bounding box. With `hinted`, only that index. Nothing when
// no such index or predicate. REQUIRES: entry.lifecycle held.
std::optional<index::Plan> PlanGeoRegion(const storage::CollectionEntry& entry, const Document& filter,
                                         const index::Index* hinted, bool describe);

// Whether `index` has a 2dsphere or 2d field: it holds only documents with
// a geometry (a location) there, so it may answer geo predicates only.
bool IsGeoIndex(const index::Index& index);

// The stage a $near read of `index` shows: GEO_NEAR_2D or GEO_NEAR_2DSPHERE.
const char* GeoNearStageName(const index::Index& index);

}  // namespace docket::engine
