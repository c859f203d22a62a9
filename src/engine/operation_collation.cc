#include "engine/operation_collation.h"

#include <mutex>

namespace docket::engine {

Result<text::CollatorPtr> ResolveCollation(const Document& requested, const storage::CollectionEntry* entry) {
  if (entry != nullptr && entry->view) {  // a view stays one: has_value() needs no lock
    // A view's collation is the only one its readers may use. Its
    // definition changes (collMod) under options_mutex: copied under it.
    Document stored;
    {
      std::lock_guard lock(entry->options_mutex);
      stored = entry->view->collation;
    }
    auto own = stored.empty() ? text::CollatorPtr() : text::Collator::FromStored(stored);
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
