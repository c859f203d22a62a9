#include "query/sort.h"

#include "bson/key_encoding.h"
#include "bson/value.h"

namespace docket::query {
namespace {
constexpr char kNullHolder[] = {7, 0, 0, 0, BSON_TYPE_NULL, 0, 0};  // {"": null}: 7 bytes

}  // namespace

Result<SortSpec> SortSpec::Compile(const Document& spec) {
  SortSpec out;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(bson_iter_key(&it), bson_iter_key_len(&it));
    bson_type_t type = bson_iter_type(&it);
    if (!bson::IsNumber(type)) {
      return Status(ErrorCode::kBadValue,
                    "sort key '" + name + "' must be 1 or -1 ($meta sorts are not supported yet)");
    }
    double direction = bson_iter_as_double(&it);
    if (direction != 1 && direction != -1) {
      return Status(ErrorCode::kBadValue, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    if (name.empty()) return Status(ErrorCode::kBadValue, "sort field name cannot be empty");
    out.keys_.push_back({bson::SplitPath(name), direction < 0});
  }
  return out;
}

SortSpec::SortValues SortSpec::Extract(const Document& doc) const {
  SortValues values;
  values.reserve(keys_.size());
  for (const Key& key : keys_) {
    std::string best;
    bool have = false;
    bool saw_missing = false;
    bson::VisitPath(doc.data(), doc.size(), key.path, [&](const bson_iter_t* v) {
      if (v == nullptr) {
        saw_missing = true;
        return false;
      }
      if (bson_iter_type(v) == BSON_TYPE_ARRAY) {
        bson_iter_t probe;
        // The elements are visited next; an empty array sorts as missing.
        if (bson_iter_recurse(v, &probe) && !bson_iter_next(&probe)) saw_missing = true;
        return false;
      }
      if (!have) {
        best = bson::HoldValue(*v);
        have = true;
        return false;
      }
      bson_iter_t current;
      bson::IterHeldValue(best, &current);
      int c = bson::CompareValues(*v, current);
      if (key.descending ? c > 0 : c < 0) best = bson::HoldValue(*v);
      return false;
    });
    if (saw_missing) {
      // Missing sorts as null, which is below every value but MinKey/undefined.
      std::string null_holder(kNullHolder, sizeof(kNullHolder));
      if (!have) {
        best = null_holder;
        have = true;
      } else if (!key.descending) {
        bson_iter_t current, null_it;
        bson::IterHeldValue(best, &current);
        bson::IterHeldValue(null_holder, &null_it);
        if (bson::CompareValues(null_it, current) < 0) best = null_holder;
      }
    }
    values.push_back(std::move(best));
  }
  return values;
}

int SortSpec::Compare(const SortValues& a, const SortValues& b) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    bson_iter_t x, y;
    bson::IterHeldValue(a[i], &x);
    bson::IterHeldValue(b[i], &y);
    int c = bson::CompareValues(x, y);
    if (c != 0) return keys_[i].descending ? -c : c;
  }
  return 0;
}

std::string SortSpec::EncodeKey(const SortValues& values) const {
  std::string out;
  for (size_t i = 0; i < keys_.size(); ++i) {
    bson_iter_t it;
    bson::IterHeldValue(values[i], &it);
    size_t start = out.size();
    bson::AppendKeyValue(&out, it);
    if (keys_[i].descending) {
      for (size_t k = start; k < out.size(); ++k) out[k] = static_cast<char>(~static_cast<unsigned char>(out[k]));
    }
  }
  return out;
}

}  // namespace docket::query
