#include "geo/geohash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bson/value.h"

namespace docket::geo {
namespace {

constexpr double kCodeSpace = 4294967296.0;  // 2^32 scaled values per coordinate
constexpr int kCellsEachWay = 4;             // Cover's budget per dimension

// MongoDB streams doubles into these messages with "%g".
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The `level` bits of x and of y interleaved, x's first, left-aligned.
uint64_t Interleave(uint32_t x, uint32_t y, int level) {
  uint64_t code = 0;
  for (int i = level - 1; i >= 0; --i) {
    code = (code << 2) | (static_cast<uint64_t>((x >> i) & 1) << 1) | ((y >> i) & 1);
  }
  return level == 0 ? 0 : code << (64 - 2 * level);
}

Status Fail(int code, const std::string& message) { return Status(static_cast<ErrorCode>(code), message); }

// One location's two coordinates, as mongod's GeoHashConverter::hash
// checks them.
Status ReadPair(const bson_iter_t& container, const GeoHashParams& params, std::vector<std::pair<double, double>>* out) {
  bson_iter_t it;
  bson_iter_recurse(&container, &it);
  if (!bson_iter_next(&it)) return Fail(13067, "geo field is empty");
  bson_iter_t x = it;
  if (!bson_iter_next(&it)) return Fail(13068, "geo field only has 1 element");
  bson_iter_t y = it;
  if (!bson::IsNumber(bson_iter_type(&x)) || !bson::IsNumber(bson_iter_type(&y))) {
    return Fail(13026, "geo values must be 'legacy coordinate pairs' for 2d indexes");
  }
  const double xv = bson::NumberAsDouble(x), yv = bson::NumberAsDouble(y);
  if (!(xv <= params.max && xv >= params.min && yv <= params.max && yv >= params.min)) {
    return Fail(13027, "point not in interval of [ " + Num(params.min) + ", " + Num(params.max) + " ]");
  }
  out->emplace_back(xv, yv);
  return Status::OK();
}

}  // namespace

GeoHasher::GeoHasher(const GeoHashParams& params) : params_(params), scaling_(kCodeSpace / (params.max - params.min)) {}

uint32_t GeoHasher::Scale(double v) const {
  const double scaled = (v - params_.min) * scaling_;
  // max itself falls in the last cell (mongod moves it just inside).
  if (!(scaled < kCodeSpace)) return 0xFFFFFFFFu;
  if (!(scaled > 0)) return 0;
  return static_cast<uint32_t>(scaled);
}

uint64_t GeoHasher::Hash(double x, double y) const {
  const int drop = 32 - params_.bits;
  return Interleave(Scale(x) >> drop, Scale(y) >> drop, params_.bits);
}

void GeoHasher::Cover(const FlatBox& box, std::vector<CodeRange>* ranges) const {
  ranges->clear();
  const FlatBox clipped{std::max(box.min_x, params_.min), std::max(box.min_y, params_.min),
                        std::min(box.max_x, params_.max), std::min(box.max_y, params_.max)};
  if (!(clipped.min_x <= clipped.max_x && clipped.min_y <= clipped.max_y)) return;
  // The coarsest level whose cells are at least a quarter of the box's
  // longer side: at most kCellsEachWay + 1 cells each way.
  const double side = std::max(clipped.max_x - clipped.min_x, clipped.max_y - clipped.min_y);
  int level = params_.bits;
  if (side > 0) {
    const double cells = (params_.max - params_.min) * kCellsEachWay / side;  // cells each way that fit
    level = std::clamp(static_cast<int>(std::floor(std::log2(std::max(cells, 1.0)))), 0, params_.bits);
  }
  const int drop = 32 - level;
  const uint32_t x0 = level == 0 ? 0 : Scale(clipped.min_x) >> drop, x1 = level == 0 ? 0 : Scale(clipped.max_x) >> drop;
  const uint32_t y0 = level == 0 ? 0 : Scale(clipped.min_y) >> drop, y1 = level == 0 ? 0 : Scale(clipped.max_y) >> drop;
  // codes under one cell, minus one
  const uint64_t span = level == 0 ? ~uint64_t{0} : level == 32 ? 0 : (~uint64_t{0} >> (2 * level));
  std::vector<CodeRange> cells;
  for (uint32_t x = x0;; ++x) {
    for (uint32_t y = y0;; ++y) {
      const uint64_t start = Interleave(x, y, level);
      cells.push_back({start, start + span});
      if (y == y1) break;
    }
    if (x == x1) break;
  }
  std::sort(cells.begin(), cells.end(), [](const CodeRange& a, const CodeRange& b) { return a.min < b.min; });
  for (const CodeRange& c : cells) {  // neighbours in Z order join up
    if (!ranges->empty() && ranges->back().max != ~uint64_t{0} && c.min == ranges->back().max + 1) {
      ranges->back().max = c.max;
    } else {
      ranges->push_back(c);
    }
  }
}

Status TwoDLocations(const bson_iter_t& value, const GeoHashParams& params, std::vector<std::pair<double, double>>* points) {
  const bson_type_t type = bson_iter_type(&value);
  if (type != BSON_TYPE_ARRAY && type != BSON_TYPE_DOCUMENT) return Status::OK();
  bson_iter_t first;
  bson_iter_recurse(&value, &first);
  if (!bson_iter_next(&first)) return Status::OK();  // [] and {}
  if (bson::IsNumber(bson_iter_type(&first))) {
    return ReadPair(value, params, points);  // one location
  }
  bson_iter_t element;
  bson_iter_recurse(&value, &element);
  while (bson_iter_next(&element)) {
    const bson_type_t t = bson_iter_type(&element);
    if (t != BSON_TYPE_ARRAY && t != BSON_TYPE_DOCUMENT) {
      return Fail(16804, "location object expected, location array not in correct format");
    }
    bson_iter_t inner;
    bson_iter_recurse(&element, &inner);
    if (!bson_iter_next(&inner)) continue;  // an empty location
    DOCKET_RETURN_IF_ERROR(ReadPair(element, params, points));
  }
  return Status::OK();
}

}  // namespace docket::geo
