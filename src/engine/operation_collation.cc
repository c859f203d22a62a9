#include "engine/operation_collation.h"

namespace docket::engine {

Result<text::CollatorPtr> ResolveCollation(const Document& requested, const storage::CollectionEntry* entry) {
  if (!requested.empty()) return text::Collator::Make(requested);
  return entry != nullptr ? entry->collation : text::CollatorPtr();
}

}  // namespace docket::engine
