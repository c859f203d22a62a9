#include "engine/operation_collation.h"

namespace docket::engine {

Result<text::CollatorPtr> ResolveCollation(const Document& requested, const storage::CollectionEntry* entry) {
  if (entry != nullptr && entry->view) {
    // A view's collation is the only one its readers may use.
    auto own = entry->view->collation.empty() ? text::CollatorPtr() : text::Collator::FromStored(entry->view->collation);
    if (!own.ok()) return own.status();
    if (requested.empty()) return own;
    auto given = text::Collator::Make(requested);
    if (!given.ok()) return given.status();
    if (!text::SameCollation(given->get(), own->get())) {
      return Status(ErrorCode::kOptionNotSupportedOnView,
                    "Cannot override a view's default collation " + text::CollationSpecOf(own->get()).ToJson());
    }
    return own;
  }
  if (!requested.empty()) return text::Collator::Make(requested);
  return entry != nullptr ? entry->collation : text::CollatorPtr();
}

}  // namespace docket::engine
