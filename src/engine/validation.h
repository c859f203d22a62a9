// Document validation (MongoDB's validator, validationLevel and
// validationAction): every insert and every update of a collection with a
// validator checks the document it would write. The validator is a query
// filter — query operators and $jsonSchema (query/json_schema.h) — with
// MongoDB's restrictions ($where, $near, $nearSphere, $text and $expr's $$NOW
// are not refused here; Docket has no $where/$near/$text, and $expr works).
//   level "strict" (the default): every insert and update is checked;
//   level "moderate": an update of a document that already fails validation
//     is not checked (inserts are);
//   level "off": nothing is checked.
//   action "error" (the default): a failing write is refused with
//     DocumentValidationFailure (121) and errInfo {failingDocumentId,
//     details}; "warn": it proceeds and the engine's warning sink is told.
// bypassDocumentValidation (WriteOptions) skips the check.
#pragma once

#include <optional>
#include <string>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "storage/catalog.h"

namespace docket::engine {

// The rules create/collMod would set, checked: a validator that compiles as
// a filter, a level and an action MongoDB knows. Errors: BadValue (2) for an
// unknown level or action, the filter's errors (as MongoDB: a validator with
// $where/$near/$text is refused too), InvalidOptions (72) for a validator on
// a system collection.
Result<storage::ValidationRules> CheckValidationRules(std::string_view db, std::string_view name,
                                                      const Document& validator, const std::string& level,
                                                      const std::string& action);

// (Re)compiles entry->validation into entry->compiled_validator. REQUIRES:
// the entry is not shared yet, or its lifecycle lock is held exclusively.
Status CompileValidation(storage::CollectionEntry* entry);

// Whether `doc`, about to be written to `entry`, may be: OK, or
// DocumentValidationFailure with errInfo. `before`: the current version for
// an update (the moderate level skips documents that fail already), null for
// an insert. REQUIRES: the entry's lifecycle lock held (shared).
Status CheckDocument(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& doc,
                     const Document* before, bool bypass);

}  // namespace docket::engine
