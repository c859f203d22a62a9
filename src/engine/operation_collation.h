// Which collation an operation compares strings by: the one it names, or
// else its collection's default (MongoDB's rule). Explicit {locale:
// "simple"} overrides a default.
#pragma once

#include "docket/document.h"
#include "docket/status.h"
#include "storage/catalog.h"
#include "text/collation.h"

namespace docket::engine {

// `requested`: the operation's `collation` option ({} when not given).
// `entry`: the collection, or null when it does not exist. Null result:
// binary comparison. A view's readers use the view's collation; naming
// another is OptionNotSupportedOnView (167). Errors: the collation's
// (text::Collator::Make).
Result<text::CollatorPtr> ResolveCollation(const Document& requested, const storage::CollectionEntry* entry);

}  // namespace docket::engine
