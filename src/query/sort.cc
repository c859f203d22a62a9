#include "query/sort.h"

#include "bson/key_encoding.h"
#include "bson/path.h"
#include "bson/value.h"

namespace docket::query {
namespace {
constexpr char kNullHolder[] = {7, 0, 0, 0, BSON_TYPE_NULL, 0, 0};            // {"": null}: 7 bytes
constexpr char kUndefinedHolder[] = {7, 0, 0, 0, BSON_TYPE_UNDEFINED, 0, 0};  // {"": undefined}

}  // namespace

Result<SortSpec> SortSpec::Compile(const Document& spec, const bson::StringOrder* strings) {
  SortSpec out;
  out.strings_ = strings;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(bson_iter_key(&it), bson_iter_key_len(&it));
    bson_type_t type = bson_iter_type(&it);
    if (type == BSON_TYPE_DOCUMENT) {
      // {field: {$meta: "textScore"}}: by the text score, highest first.
      bson_iter_t meta;
      bson_iter_recurse(&it, &meta);
      if (!bson_iter_next(&meta) || std::string_view(bson_iter_key(&meta)) != "$meta") {
        return Status(static_cast<ErrorCode>(17312), "$meta is the only expression supported by $sort right now");
      }
      bson_iter_t extra = meta;
      if (bson_iter_next(&extra)) {
        return Status(ErrorCode::kFailedToParse, "Cannot have additional keys in a $meta sort specification");
      }
      const std::string kind = BSON_ITER_HOLDS_UTF8(&meta) ? bson_iter_utf8(&meta, nullptr) : "";
      if (kind == "searchScore") {
        return Status(static_cast<ErrorCode>(31218), "$meta sort by 'searchScore' metadata is not supported");
      }
      if (kind == "searchHighlights") {
        return Status(static_cast<ErrorCode>(31219), "$meta sort by 'searchHighlights' metadata is not supported");
      }
      if (kind == "randVal") {
        return Status(ErrorCode::kBadValue, "$meta sort by 'randVal' is not supported by Docket");
      }
      if (kind != "textScore") {
        return Status(static_cast<ErrorCode>(31138), "Illegal $meta sort: $meta: " + bson::ValueToJson(meta));
      }
      out.keys_.push_back({bson::Path(), true, true});
      out.has_text_score_ = true;
      continue;
    }
    if (!bson::IsNumber(type)) {
      return Status(ErrorCode::kBadValue, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
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

SortSpec SortSpec::ByComputed(std::function<double(const Document&)> value) {
  SortSpec out;
  out.keys_.push_back({bson::Path(), /*descending=*/false, /*text_score=*/true});
  out.text_score_ = std::move(value);
  return out;
}

SortSpec::SortValues SortSpec::Extract(const Document& doc) const {
  // MongoDB's sort key of a field: its value; for an array, its smallest
  // element ascending (largest descending), each element — an array one
  // included — compared as a whole value; an empty array counts as
  // undefined (below null, as MongoDB's index keys have it); a path that
  // reaches nothing counts as null.
  SortValues values;
  values.reserve(keys_.size());
  for (const Key& key : keys_) {
    if (key.text_score) {
      bson_t held = BSON_INITIALIZER;
      BSON_APPEND_DOUBLE(&held, "", text_score_ ? text_score_(doc) : 0.0);
      values.emplace_back(reinterpret_cast<const char*>(bson_get_data(&held)), held.len);
      bson_destroy(&held);
      continue;
    }
    std::string best;
    bool have = false;
    auto offer_plain = [&](const bson_iter_t& v) {
      if (!have) {
        best = bson::HoldValue(v);
        have = true;
        return;
      }
      bson_iter_t current;
      bson::IterHeldValue(best, &current);
      const int c = bson::CompareValues(v, current);
      if (key.descending ? c > 0 : c < 0) best = bson::HoldValue(v);
    };
    // Under a collation, each value competes (and is kept) as its
    // comparison key: strings as their sort keys.
    auto offer = [&](const bson_iter_t& v) {
      if (strings_ == nullptr || !bson::HasStrings(v)) return offer_plain(v);
      const std::string keyed = bson::ComparisonKey(v, strings_);
      bson_iter_t it;
      bson::IterHeldValue(keyed, &it);
      offer_plain(it);
    };
    auto offer_held = [&](const char* held, size_t size) {
      std::string holder(held, size);
      bson_iter_t it;
      bson::IterHeldValue(holder, &it);
      offer(it);
    };
    bson::VisitOptions leaf_arrays_whole;
    leaf_arrays_whole.expand_leaf_arrays = false;
    bson::VisitPath(
        doc.data(), doc.size(), key.path,
        [&](const bson_iter_t* v) {
          if (v == nullptr) {
            offer_held(kNullHolder, sizeof(kNullHolder));
            return false;
          }
          if (bson_iter_type(v) != BSON_TYPE_ARRAY) {
            offer(*v);
            return false;
          }
          bson_iter_t element;
          bool any = false;
          if (bson_iter_recurse(v, &element)) {
            while (bson_iter_next(&element)) {
              any = true;
              offer(element);
            }
          }
          if (!any) offer_held(kUndefinedHolder, sizeof(kUndefinedHolder));
          return false;
        },
        leaf_arrays_whole);
    if (!have) best = std::string(kNullHolder, sizeof(kNullHolder));
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
