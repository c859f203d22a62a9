#include "engine/geo_plan.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "bson/builder.h"
#include "bson/value.h"
#include "engine/indexes.h"
#include "geo/geometry.h"
#include "index/implication.h"

namespace docket::engine {
namespace {

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

// Calls visit(field, operators) for every `{field: {$op: ...}}` at the top
// level of the filter, under $and, and under a one-clause $or (which
// MongoDB reads as its clause), until it returns true.
bool VisitFieldOperators(const uint8_t* data, size_t len,
                         const std::function<bool(std::string_view, const bson_iter_t&)>& visit) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    const std::string_view key = Key(it);
    if ((key == "$and" || key == "$or") && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      int clauses = 0;
      while (bson_iter_next(&element)) ++clauses;
      if (key == "$or" && clauses != 1) continue;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) continue;
        std::string_view bytes = bson::SubDocumentBytes(element);
        if (VisitFieldOperators(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), visit)) return true;
      }
      continue;
    }
    if (!key.empty() && key[0] != '$' && bson::IsOperatorDocument(it) && visit(key, it)) return true;
  }
  return false;
}

bool HasOperator(const bson_iter_t& operators, std::initializer_list<std::string_view> names) {
  bson_iter_t op;
  bson_iter_recurse(&operators, &op);
  while (bson_iter_next(&op)) {
    if (std::find(names.begin(), names.end(), Key(op)) != names.end()) return true;
  }
  return false;
}

// The position of `path` among the index's fields when it is a 2dsphere
// field there; -1 otherwise.
int SphereFieldIndex(const index::Index& index, std::string_view path) {
  for (size_t i = 0; i < index.fields().size(); ++i) {
    if (index.fields()[i].sphere && index.fields()[i].dotted == path) return static_cast<int>(i);
  }
  return -1;
}

// The usable 2dsphere index on `path`: `hinted` if it is one, else the
// first ready, visible one; a partial one only when `filter` implies its
// expression (it holds no other documents).
std::shared_ptr<const index::Index> SphereIndexOn(const storage::CollectionEntry& entry, std::string_view path,
                                                  const index::Index* hinted, const Document& filter) {
  for (const auto& index : IndexesOf(entry)) {
    if (index->hidden() || index->building() || SphereFieldIndex(*index, path) < 0) continue;
    if (index->partial() && !index::FilterImplies(filter, index->partial_filter())) continue;
    if (hinted != nullptr && index.get() != hinted) continue;
    return index;
  }
  return nullptr;
}

// Explain's indexBounds for a geo field: {path: ["[a, b]", ...]}, or
// ["[MinKey, MaxKey]"] when the whole index is read.
Document NumberLongBounds(std::string_view path, const std::vector<std::pair<int64_t, int64_t>>& intervals,
                          bool whole_index) {
  bson::Builder bounds;
  bson_t list;
  bson_append_array_begin(bounds.get(), std::string(path).c_str(), -1, &list);
  if (whole_index) BSON_APPEND_UTF8(&list, "0", "[MinKey, MaxKey]");
  for (size_t n = 0; n < intervals.size(); ++n) {
    const std::string text = "[" + std::to_string(intervals[n].first) + ", " + std::to_string(intervals[n].second) + "]";
    bson_append_utf8(&list, std::to_string(n).c_str(), -1, text.c_str(), -1);
  }
  bson_append_array_end(bounds.get(), &list);
  return bounds.Finish();
}

// The usable 2d index on `path` (a 2d index's geo field is its first):
// `hinted` if it is one, else the first ready, visible one; a partial one
// only when `filter` implies its expression.
std::shared_ptr<const index::Index> FlatIndexOn(const storage::CollectionEntry& entry, std::string_view path,
                                                const index::Index* hinted, const Document& filter) {
  for (const auto& index : IndexesOf(entry)) {
    if (index->hidden() || index->building() || !index->has_flat() || index->fields()[0].dotted != path) continue;
    if (index->partial() && !index::FilterImplies(filter, index->partial_filter())) continue;
    if (hinted != nullptr && index.get() != hinted) continue;
    return index;
  }
  return nullptr;
}

// The plan that reads a 2d index's entries whose locations may lie in
// `box`: the code ranges of the geohash cells covering it.
index::Plan FlatPlan(std::shared_ptr<const index::Index> index, std::string_view path, const geo::FlatBox& box,
                     bool describe) {
  std::vector<geo::CodeRange> codes;
  index->geohash()->Cover(box, &codes);
  index::Plan plan;
  for (const geo::CodeRange& r : codes) {
    plan.ranges.push_back({index::FlatCellKey(r.min), index::PrefixSuccessor(index::FlatCellKey(r.max))});
  }
  if (describe) {
    // Shown as NumberLong intervals of the (top-bit-flipped) codes the keys hold.
    std::vector<std::pair<int64_t, int64_t>> intervals;
    for (const geo::CodeRange& r : codes) {
      intervals.emplace_back(static_cast<int64_t>(r.min ^ (uint64_t{1} << 63)), static_cast<int64_t>(r.max ^ (uint64_t{1} << 63)));
    }
    plan.bounds = NumberLongBounds(path, intervals, /*whole_index=*/false);
  }
  plan.index = std::move(index);
  plan.exact = false;
  return plan;
}

// The plan that reads the index entries of `cells` (each cell's
// descendants and its ancestors down to the index's coarsest level), or the
// whole index when the geo field is not its first (the other fields' keys
// come first there).
index::Plan CellPlan(std::shared_ptr<const index::Index> index, std::string_view path,
                     const std::vector<uint64_t>* cells, bool describe) {
  index::Plan plan;
  const bool first = SphereFieldIndex(*index, path) == 0;
  std::vector<geo::CellRange> cell_ranges;
  if (first && cells != nullptr) {
    for (uint64_t cell : *cells) geo::CellRangesFor(cell, index->sphere_cover().coarsest_level, &cell_ranges);
    // Neighbouring cells share ancestors: each range once.
    std::sort(cell_ranges.begin(), cell_ranges.end(),
              [](const geo::CellRange& a, const geo::CellRange& b) { return a.min != b.min ? a.min < b.min : a.max < b.max; });
    cell_ranges.erase(std::unique(cell_ranges.begin(), cell_ranges.end(),
                                  [](const geo::CellRange& a, const geo::CellRange& b) { return a.min == b.min && a.max == b.max; }),
                      cell_ranges.end());
  }
  if (!first || cells == nullptr) {
    plan.ranges.push_back({std::string(), std::string(8, '\xFF')});
  } else {
    std::vector<index::KeyRange> ranges;
    for (const geo::CellRange& r : cell_ranges) {
      ranges.push_back({index::SphereCellKey(r.min), index::PrefixSuccessor(index::SphereCellKey(r.max))});
    }
    std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (index::KeyRange& r : ranges) {  // ascending and disjoint, as a plan's ranges must be
      if (!plan.ranges.empty() && r.start <= plan.ranges.back().end) {
        plan.ranges.back().end = std::max(plan.ranges.back().end, r.end);
      } else {
        plan.ranges.push_back(std::move(r));
      }
    }
  }
  if (describe) {
    // MongoDB shows a geo field's bounds as NumberLong intervals of cell ids.
    std::vector<std::pair<int64_t, int64_t>> intervals;
    if (first && cells != nullptr) {
      for (const geo::CellRange& r : cell_ranges) intervals.emplace_back(static_cast<int64_t>(r.min), static_cast<int64_t>(r.max));
    }
    plan.bounds = NumberLongBounds(path, intervals, /*whole_index=*/!first || cells == nullptr);
  }
  plan.index = std::move(index);
  plan.exact = false;
  return plan;
}

}  // namespace

bool IsGeoIndex(const index::Index& index) { return index.has_sphere() || index.has_flat(); }

const char* GeoNearStageName(const index::Index& index) {
  return index.has_flat() ? "GEO_NEAR_2D" : "GEO_NEAR_2DSPHERE";
}

bool HasNearOperator(const Document& filter) {
  return VisitFieldOperators(filter.data(), filter.size(), [](std::string_view, const bson_iter_t& operators) {
    return HasOperator(operators, {"$near", "$nearSphere", "$geoNear"});
  });
}

namespace {

// PlanNear's work; `radius`, when given, replaces the $maxDistance.
Result<index::Plan> PlanNearCap(const storage::CollectionEntry& entry, const Document& filter,
                                const index::Index* hinted, bool describe, std::optional<double> radius) {
  std::optional<Result<geo::NearQuery>> near;
  std::string path;
  VisitFieldOperators(filter.data(), filter.size(), [&](std::string_view field, const bson_iter_t& operators) {
    if (!HasOperator(operators, {"$near", "$nearSphere", "$geoNear"})) return false;
    near = geo::NearQuery::Parse(operators);
    path = field;
    return true;
  });
  if (!near) return Status(ErrorCode::kBadValue, "no $near in the filter");
  if (!near->ok()) return near->status();
  const geo::NearQuery& query = **near;
  std::shared_ptr<const index::Index> index = query.spherical() ? SphereIndexOn(entry, path, hinted, filter) : nullptr;
  // A legacy centre: a 2d index serves it too (flat for $near, on the
  // sphere for $nearSphere).
  if (index == nullptr && !query.geojson()) {
    if (auto flat = FlatIndexOn(entry, path, hinted, filter)) {
      const double outer = radius.value_or(query.max_distance());
      return FlatPlan(std::move(flat), path, *query.FlatBoundsWithin(outer), describe);
    }
  }
  if (index == nullptr) {
    return Status(ErrorCode::kNoQueryExecutionPlans,
                  "error processing query: ns=" + entry.db + "." + entry.name +
                      " planner returned error :: caused by :: unable to find index for $geoNear query");
  }
  const double outer = radius.value_or(query.max_distance());
  if (std::isinf(outer)) return CellPlan(std::move(index), path, nullptr, describe);
  std::vector<uint64_t> cells;
  query.CapCovering(outer, &cells);
  return CellPlan(std::move(index), path, &cells, describe);
}

}  // namespace

Result<index::Plan> PlanNear(const storage::CollectionEntry& entry, const Document& filter, const index::Index* hinted,
                             bool describe) {
  return PlanNearCap(entry, filter, hinted, describe, std::nullopt);
}

Result<index::Plan> PlanNearWithin(const storage::CollectionEntry& entry, const Document& filter,
                                   const index::Index* hinted, double radius) {
  return PlanNearCap(entry, filter, hinted, /*describe=*/false, radius);
}

std::optional<index::Plan> PlanGeoRegion(const storage::CollectionEntry& entry, const Document& filter,
                                         const index::Index* hinted, bool describe) {
  std::optional<index::Plan> plan;
  VisitFieldOperators(filter.data(), filter.size(), [&](std::string_view field, const bson_iter_t& operators) {
    bson_iter_t op;
    bson_iter_recurse(&operators, &op);
    while (bson_iter_next(&op)) {
      const std::string_view name = Key(op);
      if (name != "$geoWithin" && name != "$within" && name != "$geoIntersects") continue;
      auto region = geo::Region::Parse(name == "$geoIntersects" ? geo::Region::Op::kIntersects : geo::Region::Op::kWithin, op);
      if (!region.ok()) continue;
      if (region->spherical()) {
        if (auto index = SphereIndexOn(entry, field, hinted, filter)) {
          std::vector<uint64_t> cells;
          region->Covering(&cells);
          plan = CellPlan(std::move(index), field, &cells, describe);
          return true;
        }
      }
      // $box, $polygon, $center and $centerSphere: a 2d index's cells.
      if (std::optional<geo::FlatBox> box = region->FlatBounds()) {
        if (auto index = FlatIndexOn(entry, field, hinted, filter)) {
          plan = FlatPlan(std::move(index), field, *box, describe);
          return true;
        }
      }
    }
    return false;
  });
  return plan;
}

}  // namespace docket::engine
