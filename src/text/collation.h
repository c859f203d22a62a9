// Collations (MongoDB 6.0's `collation` option) on ICU, as MongoDB does:
// locale-aware string comparison with strength 1-5, caseLevel, caseFirst,
// numericOrdering, alternate + maxVariable, backwards and normalization.
// {locale: "simple"} is binary comparison and has no Collator (nullptr).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "bson/string_order.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::text {

class Collator;
// Null means the simple binary collation.
using CollatorPtr = std::shared_ptr<const Collator>;

// Immutable once made; safe to use from any number of threads (ICU's
// collators are thread-safe for their const methods, which are all we call).
class Collator : public bson::StringOrder {
 public:
  // Parses a collation document with MongoDB's rules and codes: `locale`
  // required (NoSuchKey 4 when missing, TypeMismatch 14 when not a string);
  // an unknown or non-canonical locale is BadValue (2) ("Did you mean ...?");
  // {locale: "simple"} with other fields, an unknown field, or an option
  // value outside its set is FailedToParse (9); options of the wrong type are
  // TypeMismatch (14); `backwards` at strength 1, or `caseFirst` without
  // caseLevel at strength 1-2, BadValue; a `version` other than this build's
  // ICU version (or MongoDB's "57.1", so that MongoDB's dumps restore)
  // IncompatibleCollationVersion (161). Options not given take the locale's
  // defaults. Returns nullptr for the simple collation.
  static Result<CollatorPtr> Make(const Document& spec);
  // A full form this program stored (a collection's or an index's): as Make,
  // without the version check, so that data written with an older ICU stays
  // readable. (Index keys written under another ICU version may order
  // differently; `validate` finds such entries.)
  static Result<CollatorPtr> FromStored(const Document& spec);

  ~Collator() override;

  // Every option with its value (MongoDB's full form, as listIndexes and
  // listCollections report it): {locale, caseLevel, caseFirst, strength,
  // numericOrdering, alternate, maxVariable, normalization, backwards,
  // version}.
  const Document& spec() const { return spec_; }

  int CompareStrings(std::string_view a, std::string_view b) const override;
  std::string SortKey(std::string_view text) const override;

 private:
  struct Icu;
  Collator(std::unique_ptr<Icu> icu, Document spec);
  static Result<CollatorPtr> MakeUncached(const Document& spec);
  std::unique_ptr<Icu> icu_;
  Document spec_;
};

// Whether two collations are the same (both simple, or the same full form).
bool SameCollation(const Collator* a, const Collator* b);

// The full form of a collation for replies: {locale: "simple"} for null.
Document CollationSpecOf(const Collator* collator);

}  // namespace docket::text
