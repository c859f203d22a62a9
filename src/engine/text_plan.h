// $text reads: the collection's text index, bound to the filter that
// matches through it, and the plan that reads the entries of the query's
// terms (each document once, however many terms it has).
#pragma once

#include <memory>

#include "docket/document.h"
#include "docket/status.h"
#include "index/planner.h"
#include "query/filter.h"
#include "storage/catalog.h"

namespace docket::engine {

// Whether `filter` has a $text that every match must satisfy (at the top
// level or under $and): then the text index is the plan. A $text under $or
// is not (the other branches match without it): such a filter is planned
// as any other and matched whole, the $text through the bound text index.
bool HasTextOperator(const Document& filter);

// The collection's text index (ready and not hidden). Errors: IndexNotFound
// (27) "text index required for $text query". REQUIRES: entry.lifecycle held.
Result<std::shared_ptr<const index::Index>> TextIndexOf(const storage::CollectionEntry& entry);

// Binds `filter`'s $text, if it has one, to the collection's text index.
// Errors: TextIndexOf's; an unsupported $language (BadValue).
// `entry` null (no collection): IndexNotFound. REQUIRES: entry->lifecycle held.
Status BindTextSearch(const storage::CollectionEntry* entry, query::Filter* filter);

// The plan of `filter`'s $text on `text_index`: per distinct term, the range
// of entries with the filter's equality values for the index's prefix
// fields and that term. Errors: NoQueryExecutionPlans (291) when a prefix
// field has no equality; the $text's own errors.
Result<index::Plan> PlanTextSearch(const std::shared_ptr<const index::Index>& text_index, const Document& filter,
                                   bool describe);

}  // namespace docket::engine
