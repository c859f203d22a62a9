#include "engine/near_rings.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_set>

#include "docket/deadline.h"
#include "docket/metrics.h"
#include "engine/geo_plan.h"
#include "engine/scan.h"
#include "geo/geometry.h"

namespace docket::engine {

Result<std::deque<Document>> NearestMatches(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                            const storage::CollectionEntry& entry, const Document& filter_doc,
                                            const query::Filter& filter, const index::Index* hinted, size_t keep) {
  const geo::NearQuery& near = *filter.near_query();
  // Distances in the query's units: metres from a GeoJSON centre, radians
  // from a legacy one.
  // Past `reach_all` every entry is within reach: half the circumference
  // on the sphere; a flat $near, the diagonal of its 2d index's square.
  double reach_all = near.geojson() ? std::numbers::pi * geo::kEarthRadiusMeters : std::numbers::pi;
  double first = near.geojson() ? 1000.0 : 1000.0 / geo::kEarthRadiusMeters;
  if (!near.spherical()) {
    auto probe = PlanNearWithin(entry, filter_doc, hinted, INFINITY);  // which 2d index (no read)
    if (!probe.ok()) return probe.status();
    const geo::GeoHashParams& square = probe->index->geohash()->params();
    reach_all = (square.max - square.min) * std::numbers::sqrt2;
    first = reach_all / 4096;  // twelve doublings reach everything
  }
  const double last = std::min(near.max_distance(), reach_all);
  std::deque<Document> out;
  std::unordered_set<std::string> returned;  // record keys: a ring read at a later snapshot may meet them again
  double inner = -1;                         // the previous ring's radius (its matches are out already)
  double radius = std::max(first, near.min_distance());
  bool recorded = false;
  while (out.size() < keep) {
    const bool final_ring = radius >= last;
    if (final_ring) radius = last;
    // The last ring reads them all (PlanNearWithin's infinite radius).
    auto plan = PlanNearWithin(entry, filter_doc, hinted, final_ring && radius >= reach_all ? INFINITY : radius);
    if (!plan.ok()) return plan.status();
    if (!recorded) {
      plan->index->accesses().Record();
      if (MetricsCollecting()) NotePlan(PlanSummaryText(GeoNearStageName(*plan->index), plan->index->key_pattern()));
      recorded = true;
    }
    ReadViewPool::View view;
    if (user_txn == nullptr) view = engine->read_views->Acquire();
    IndexScan scan(engine, user_txn, std::move(view), entry.id, *plan, /*expected=*/0);
    std::vector<std::pair<double, Document>> ring;
    for (; scan.Valid(); scan.Next()) {
      DOCKET_RETURN_IF_ERROR(CheckDeadline());
      const rocksdb::Slice v = scan.value();
      const std::string_view bytes(v.data(), v.size());
      const std::optional<double> d = filter.NearDistance(bytes);
      if (!d || *d <= inner || *d > radius) continue;  // another ring's, or not measurable
      auto match = filter.Evaluate(reinterpret_cast<const uint8_t*>(v.data()), v.size());
      if (!match.ok()) return match.status();
      if (!*match || !returned.insert(scan.key().ToString()).second) continue;
      ring.emplace_back(*d, Document::FromTrustedBytes(std::string(bytes)));
    }
    DOCKET_RETURN_IF_ERROR(scan.status());
    std::stable_sort(ring.begin(), ring.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [distance, doc] : ring) out.push_back(std::move(doc));
    if (final_ring) break;
    inner = radius;
    radius *= 2;
  }
  if (out.size() > keep) out.resize(keep);
  return out;
}

}  // namespace docket::engine
