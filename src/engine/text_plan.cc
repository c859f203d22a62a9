#include "engine/text_plan.h"

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/key_encoding.h"
#include "bson/value.h"
#include "engine/indexes.h"

namespace docket::engine {
namespace {

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

// Finds the $text element (top level or under $and).
bool FindText(const uint8_t* data, size_t len, bson_iter_t* out) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    if (Key(it) == "$text") {
      *out = it;
      return true;
    }
    if (Key(it) == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) continue;
        std::string_view bytes = bson::SubDocumentBytes(element);
        if (FindText(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out)) return true;
      }
    }
  }
  return false;
}

// The equality operand for `path` at the top level or under $and: {path: v}
// or {path: {$eq: v}}.
bool FindEquality(const uint8_t* data, size_t len, std::string_view path, bson_iter_t* out) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    if (Key(it) == path) {
      if (!bson::IsOperatorDocument(it)) {
        *out = it;
        return true;
      }
      bson_iter_t op;
      bson_iter_recurse(&it, &op);
      while (bson_iter_next(&op)) {
        if (Key(op) == "$eq") {
          *out = op;
          return true;
        }
      }
    } else if (Key(it) == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) continue;
        std::string_view bytes = bson::SubDocumentBytes(element);
        if (FindEquality(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, out)) return true;
      }
    }
  }
  return false;
}

}  // namespace

bool HasTextOperator(const Document& filter) {
  bson_iter_t it;
  return FindText(filter.data(), filter.size(), &it);
}

Result<std::shared_ptr<const index::Index>> TextIndexOf(const storage::CollectionEntry& entry) {
  for (const auto& index : IndexesOf(entry)) {
    if (index->text() != nullptr && !index->hidden() && !index->building()) return index;
  }
  return Status(ErrorCode::kIndexNotFound, "text index required for $text query");
}

Status BindTextSearch(const storage::CollectionEntry* entry, query::Filter* filter) {
  if (filter->text_search() == nullptr) return Status::OK();
  if (entry == nullptr) return Status(ErrorCode::kIndexNotFound, "text index required for $text query (no such collection)");
  auto index = TextIndexOf(*entry);
  if (!index.ok()) return index.status();
  return filter->BindTextIndex((*index)->text());
}

Result<index::Plan> PlanTextSearch(const std::shared_ptr<const index::Index>& text_index, const Document& filter,
                                   bool describe) {
  bson_iter_t text_it;
  if (!FindText(filter.data(), filter.size(), &text_it)) {
    return Status(ErrorCode::kInternalError, "PlanTextSearch without $text");
  }
  auto options = text::ParseTextOperator(text_it);
  if (!options.ok()) return options.status();
  auto query = text::TextQuery::Make(*options, *text_index->text());
  if (!query.ok()) return query.status();
  // The key prefix every range starts with: the prefix fields' equalities.
  std::string prefix;
  bson::Builder index_prefix;
  for (const index::IndexField& field : text_index->fields()) {
    if (field.text) break;
    bson_iter_t value;
    if (!FindEquality(filter.data(), filter.size(), field.dotted, &value)) {
      return Status(ErrorCode::kNoQueryExecutionPlans,
                    "error processing query: planner returned error :: caused by :: failed to use text index to "
                    "satisfy $text query (if text index is compound, are equality predicates given for all prefix "
                    "fields?)");
    }
    std::string key;
    bson::AppendKeyValue(&key, value);
    if (field.descending) {
      for (char& c : key) c = static_cast<char>(~static_cast<unsigned char>(c));
    }
    prefix += key;
    if (describe) bson::AppendElement(index_prefix.get(), field.dotted.c_str(), -1, &value);
  }
  index::Plan plan;
  plan.index = text_index;
  for (const std::string& term : query->terms()) {  // ascending, so the ranges are too
    std::string start = prefix + index::TextTermKey(term);
    std::string end = index::PrefixSuccessor(start);
    plan.ranges.push_back({std::move(start), std::move(end)});
  }
  if (describe) {
    bson::Builder bounds;
    bson::AppendDocument(bounds.get(), "indexPrefix", index_prefix.Finish());
    bson::AppendDocument(bounds.get(), "parsedTextQuery", query->Describe());
    BSON_APPEND_INT32(bounds.get(), "textIndexVersion", 3);
    plan.bounds = bounds.Finish();
  }
  return plan;
}

}  // namespace docket::engine
