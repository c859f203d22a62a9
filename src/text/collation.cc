#include "text/collation.h"

#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/stringpiece.h>
#include <unicode/ucol.h>
#include <unicode/unistr.h>
#include <unicode/uvernum.h>

#include <cmath>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bson/builder.h"

namespace docket::text {

struct Collator::Icu {
  std::unique_ptr<icu::Collator> collator;
};

namespace {

// MongoDB 6.0 ships ICU 57.1 and writes that version into the collations it
// stores; specs carrying it (from MongoDB's dumps) are accepted.
constexpr std::string_view kMongoIcuVersion = "57.1";

std::string SpecText(const Document& spec) { return spec.ToJson(); }

std::string TypeName(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_UTF8: return "string";
    case BSON_TYPE_BOOL: return "bool";
    case BSON_TYPE_INT32: return "int";
    case BSON_TYPE_INT64: return "long";
    case BSON_TYPE_DOUBLE: return "double";
    case BSON_TYPE_DECIMAL128: return "decimal";
    case BSON_TYPE_DOCUMENT: return "object";
    case BSON_TYPE_ARRAY: return "array";
    case BSON_TYPE_NULL: return "null";
    default: return "another type";
  }
}

Status WrongType(std::string_view field, std::string_view expected, const bson_iter_t& it) {
  return Status(ErrorCode::kTypeMismatch, "\"" + std::string(field) + "\" had the wrong type. Expected " +
                                              std::string(expected) + ", found " + TypeName(bson_iter_type(&it)));
}

// The spec's options, each set only when given.
struct Given {
  std::optional<bool> case_level, numeric_ordering, normalization, backwards;
  std::optional<std::string> case_first, alternate, max_variable, version;
  std::optional<int64_t> strength;
};

Status ParseOptions(const Document& spec, Given* given) {
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    auto boolean = [&](std::optional<bool>* out) -> Status {
      if (!BSON_ITER_HOLDS_BOOL(&it)) return WrongType(key, "bool", it);
      *out = bson_iter_bool(&it);
      return Status::OK();
    };
    auto text = [&](std::optional<std::string>* out) -> Status {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return WrongType(key, "string", it);
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&it, &len);
      *out = std::string(s, len);
      return Status::OK();
    };
    Status s;
    if (key == "locale") {
      continue;
    } else if (key == "caseLevel") {
      s = boolean(&given->case_level);
    } else if (key == "numericOrdering") {
      s = boolean(&given->numeric_ordering);
    } else if (key == "normalization") {
      s = boolean(&given->normalization);
    } else if (key == "backwards") {
      s = boolean(&given->backwards);
    } else if (key == "caseFirst") {
      s = text(&given->case_first);
    } else if (key == "alternate") {
      s = text(&given->alternate);
    } else if (key == "maxVariable") {
      s = text(&given->max_variable);
    } else if (key == "version") {
      s = text(&given->version);
    } else if (key == "strength") {
      if (!BSON_ITER_HOLDS_NUMBER(&it) && !BSON_ITER_HOLDS_DECIMAL128(&it)) return WrongType(key, "number", it);
      const double d = bson_iter_as_double(&it);
      if (BSON_ITER_HOLDS_DOUBLE(&it) && (std::trunc(d) != d || std::fabs(d) > 9.2e18)) {
        return Status(ErrorCode::kBadValue, "Expected field \"strength\" to have a value exactly representable as a "
                                            "64-bit integer, but found strength: " + std::to_string(d));
      }
      given->strength = bson_iter_as_int64(&it);
    } else {
      return Status(ErrorCode::kFailedToParse, "Collation spec contains unknown field. Collation spec: " + SpecText(spec));
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status SetAttribute(icu::Collator* c, UColAttribute attribute, UColAttributeValue value, std::string_view field) {
  UErrorCode status = U_ZERO_ERROR;
  c->setAttribute(attribute, value, status);
  if (U_FAILURE(status)) {
    return Status(ErrorCode::kInternalError, "failed to set collation option '" + std::string(field) +
                                                 "': " + u_errorName(status));
  }
  return Status::OK();
}

UColAttributeValue Get(const icu::Collator& c, UColAttribute attribute) {
  UErrorCode status = U_ZERO_ERROR;
  return c.getAttribute(attribute, status);
}

Status OneOf(std::string_view field, const std::string& value, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (value == a) return Status::OK();
  }
  std::string list;
  size_t i = 0;
  for (std::string_view a : allowed) {
    if (i > 0) list += (i + 1 == allowed.size()) ? "', or '" : "', '";
    list += a;
    ++i;
  }
  return Status(ErrorCode::kFailedToParse,
                "Field '" + std::string(field) + "' must be '" + list + "'. Got: " + value);
}

// Applies the given options to `c`.
Status Apply(const Given& g, icu::Collator* c) {
  if (g.case_level) DOCKET_RETURN_IF_ERROR(SetAttribute(c, UCOL_CASE_LEVEL, *g.case_level ? UCOL_ON : UCOL_OFF, "caseLevel"));
  if (g.case_first) {
    DOCKET_RETURN_IF_ERROR(OneOf("caseFirst", *g.case_first, {"upper", "lower", "off"}));
    const UColAttributeValue v = *g.case_first == "upper" ? UCOL_UPPER_FIRST
                                 : *g.case_first == "lower" ? UCOL_LOWER_FIRST
                                                            : UCOL_OFF;
    DOCKET_RETURN_IF_ERROR(SetAttribute(c, UCOL_CASE_FIRST, v, "caseFirst"));
  }
  if (g.strength) {
    static constexpr UColAttributeValue kStrengths[] = {UCOL_PRIMARY, UCOL_SECONDARY, UCOL_TERTIARY, UCOL_QUATERNARY,
                                                        UCOL_IDENTICAL};
    if (*g.strength < 1 || *g.strength > 5) {
      return Status(ErrorCode::kFailedToParse,
                    "Field 'strength' must be an integer 1 through 5. Got: " + std::to_string(*g.strength));
    }
    DOCKET_RETURN_IF_ERROR(SetAttribute(c, UCOL_STRENGTH, kStrengths[*g.strength - 1], "strength"));
  }
  if (g.numeric_ordering) {
    DOCKET_RETURN_IF_ERROR(
        SetAttribute(c, UCOL_NUMERIC_COLLATION, *g.numeric_ordering ? UCOL_ON : UCOL_OFF, "numericOrdering"));
  }
  if (g.alternate) {
    DOCKET_RETURN_IF_ERROR(OneOf("alternate", *g.alternate, {"non-ignorable", "shifted"}));
    DOCKET_RETURN_IF_ERROR(SetAttribute(c, UCOL_ALTERNATE_HANDLING,
                                        *g.alternate == "shifted" ? UCOL_SHIFTED : UCOL_NON_IGNORABLE, "alternate"));
  }
  if (g.max_variable) {
    DOCKET_RETURN_IF_ERROR(OneOf("maxVariable", *g.max_variable, {"punct", "space"}));
    UErrorCode status = U_ZERO_ERROR;
    c->setMaxVariable(*g.max_variable == "space" ? UCOL_REORDER_CODE_SPACE : UCOL_REORDER_CODE_PUNCTUATION, status);
    if (U_FAILURE(status)) {
      return Status(ErrorCode::kInternalError, std::string("failed to set collation option 'maxVariable': ") +
                                                   u_errorName(status));
    }
  }
  if (g.normalization) {
    DOCKET_RETURN_IF_ERROR(
        SetAttribute(c, UCOL_NORMALIZATION_MODE, *g.normalization ? UCOL_ON : UCOL_OFF, "normalization"));
  }
  if (g.backwards) {
    DOCKET_RETURN_IF_ERROR(SetAttribute(c, UCOL_FRENCH_COLLATION, *g.backwards ? UCOL_ON : UCOL_OFF, "backwards"));
  }
  return Status::OK();
}

int StrengthOf(const icu::Collator& c) {
  switch (Get(c, UCOL_STRENGTH)) {
    case UCOL_PRIMARY: return 1;
    case UCOL_SECONDARY: return 2;
    case UCOL_QUATERNARY: return 4;
    case UCOL_IDENTICAL: return 5;
    default: return 3;
  }
}

// The full form of the collation `c` now is.
Document FullForm(const std::string& locale, const icu::Collator& c) {
  bson::Builder b;
  bson_append_utf8(b.get(), "locale", -1, locale.data(), static_cast<int>(locale.size()));
  bson_append_bool(b.get(), "caseLevel", -1, Get(c, UCOL_CASE_LEVEL) == UCOL_ON);
  const UColAttributeValue case_first = Get(c, UCOL_CASE_FIRST);
  bson_append_utf8(b.get(), "caseFirst", -1,
                   case_first == UCOL_UPPER_FIRST ? "upper" : case_first == UCOL_LOWER_FIRST ? "lower" : "off", -1);
  bson_append_int32(b.get(), "strength", -1, StrengthOf(c));
  bson_append_bool(b.get(), "numericOrdering", -1, Get(c, UCOL_NUMERIC_COLLATION) == UCOL_ON);
  bson_append_utf8(b.get(), "alternate", -1,
                   Get(c, UCOL_ALTERNATE_HANDLING) == UCOL_SHIFTED ? "shifted" : "non-ignorable", -1);
  bson_append_utf8(b.get(), "maxVariable", -1, c.getMaxVariable() == UCOL_REORDER_CODE_SPACE ? "space" : "punct", -1);
  bson_append_bool(b.get(), "normalization", -1, Get(c, UCOL_NORMALIZATION_MODE) == UCOL_ON);
  bson_append_bool(b.get(), "backwards", -1, Get(c, UCOL_FRENCH_COLLATION) == UCOL_ON);
  bson_append_utf8(b.get(), "version", -1, U_ICU_VERSION, -1);
  return b.Finish();
}

}  // namespace

Collator::Collator(std::unique_ptr<Icu> icu, Document spec) : icu_(std::move(icu)), spec_(std::move(spec)) {}
Collator::~Collator() = default;

Result<CollatorPtr> Collator::Make(const Document& spec) {
  // Making an ICU collator costs tens of microseconds, more than a point
  // query: the collators of recent specs are kept (they are immutable and
  // shared). A spec is looked up by its bytes, so {locale: "en"} and its full
  // form are two entries for one collation. Bounded: cleared when full.
  static std::mutex mutex;
  static std::unordered_map<std::string, CollatorPtr> made;  // GUARDED_BY(mutex)
  constexpr size_t kMaxKept = 256;
  {
    std::lock_guard lock(mutex);
    auto found = made.find(spec.bytes());
    if (found != made.end()) return found->second;
  }
  auto fresh = MakeUncached(spec);
  if (!fresh.ok()) return fresh.status();
  std::lock_guard lock(mutex);
  if (made.size() >= kMaxKept) made.clear();
  made.emplace(spec.bytes(), *fresh);
  return fresh;
}

Result<CollatorPtr> Collator::MakeUncached(const Document& spec) {
  bson_iter_t it;
  if (!spec.Find("locale", &it)) return Status(ErrorCode::kNoSuchKey, "Missing expected field \"locale\"");
  if (!BSON_ITER_HOLDS_UTF8(&it)) return WrongType("locale", "string", it);
  uint32_t len = 0;
  const char* text = bson_iter_utf8(&it, &len);
  const std::string locale(text, len);
  if (locale.find('\0') != std::string::npos) {
    return Status(ErrorCode::kBadValue, "Field 'locale' cannot contain null byte. Collation spec: " + SpecText(spec));
  }
  if (locale == "simple") {
    bson_iter_t all;
    spec.Iterate(&all);
    int fields = 0;
    while (bson_iter_next(&all)) ++fields;
    if (fields > 1) {
      return Status(ErrorCode::kFailedToParse,
                    "If locale=simple, no other fields should be present in: " + SpecText(spec));
    }
    return CollatorPtr();
  }
  if (locale.empty()) {
    return Status(ErrorCode::kBadValue, "Field 'locale' cannot be the empty string in: " + SpecText(spec));
  }
  const icu::Locale requested = icu::Locale::createFromName(locale.c_str());
  if (requested.isBogus()) {
    return Status(ErrorCode::kBadValue, "Field 'locale' is not valid in: " + SpecText(spec));
  }
  UErrorCode status = U_ZERO_ERROR;
  auto icu = std::make_unique<Icu>();
  icu->collator.reset(icu::Collator::createInstance(requested, status));
  if (U_FAILURE(status) || icu->collator == nullptr) {
    return Status(ErrorCode::kInternalError, std::string("Failed to create collator: ") + u_errorName(status));
  }
  // ICU falls back silently (to the root collation, or a parent locale) for
  // what it has no data for; MongoDB refuses unless the locale ICU uses is
  // exactly the one asked for.
  status = U_ZERO_ERROR;
  const icu::Locale valid = icu->collator->getLocale(ULOC_VALID_LOCALE, status);
  const std::string valid_name = U_FAILURE(status) ? std::string() : std::string(valid.getName());
  if (valid_name != locale) {
    std::string message = "Field 'locale' is invalid in: " + SpecText(spec);
    if (!valid_name.empty() && valid_name != "root") message += ". Did you mean '" + valid_name + "'?";
    return Status(ErrorCode::kBadValue, std::move(message));
  }
  Given given;
  DOCKET_RETURN_IF_ERROR(ParseOptions(spec, &given));
  DOCKET_RETURN_IF_ERROR(Apply(given, icu->collator.get()));
  if (given.version && *given.version != U_ICU_VERSION && *given.version != kMongoIcuVersion) {
    return Status(ErrorCode(161), "Requested collation version " + *given.version +
                                      " but the only available collator version was " U_ICU_VERSION
                                      ". Requested collation spec: " + SpecText(spec));
  }
  Document full = FullForm(requested.getName(), *icu->collator);
  const int strength = StrengthOf(*icu->collator);
  if (strength == 1 && Get(*icu->collator, UCOL_FRENCH_COLLATION) == UCOL_ON) {
    return Status(ErrorCode::kBadValue, "'backwards' is invalid with 'strength' of 1 in: " + full.ToJson());
  }
  if (Get(*icu->collator, UCOL_CASE_FIRST) != UCOL_OFF && Get(*icu->collator, UCOL_CASE_LEVEL) != UCOL_ON &&
      strength <= 2) {
    return Status(ErrorCode::kBadValue,
                  "'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: " +
                      full.ToJson());
  }
  return CollatorPtr(new Collator(std::move(icu), std::move(full)));
}

Result<CollatorPtr> Collator::FromStored(const Document& spec) {
  bson::Builder without_version;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) == "version") continue;
    bson_append_value(without_version.get(), bson_iter_key(&it), -1, bson_iter_value(&it));
  }
  return Make(without_version.Finish());
}

int Collator::CompareStrings(std::string_view a, std::string_view b) const {
  UErrorCode status = U_ZERO_ERROR;
  const UCollationResult r = icu_->collator->compareUTF8(icu::StringPiece(a.data(), static_cast<int32_t>(a.size())),
                                                         icu::StringPiece(b.data(), static_cast<int32_t>(b.size())),
                                                         status);
  return r == UCOL_LESS ? -1 : (r == UCOL_GREATER ? 1 : 0);
}

std::string Collator::SortKey(std::string_view text) const {
  const icu::UnicodeString s = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  std::string key(64 + text.size() * 4, '\0');
  int32_t needed = icu_->collator->getSortKey(s, reinterpret_cast<uint8_t*>(key.data()), static_cast<int32_t>(key.size()));
  if (needed > static_cast<int32_t>(key.size())) {
    key.resize(static_cast<size_t>(needed));
    needed = icu_->collator->getSortKey(s, reinterpret_cast<uint8_t*>(key.data()), needed);
  }
  // The key ends with its one NUL byte, which is not part of it.
  key.resize(needed > 0 ? static_cast<size_t>(needed) - 1 : 0);
  return key;
}

bool SameCollation(const Collator* a, const Collator* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a == b || a->spec() == b->spec();
}

Document CollationSpecOf(const Collator* collator) {
  if (collator != nullptr) return collator->spec();
  bson::Builder b;
  bson_append_utf8(b.get(), "locale", -1, "simple", -1);
  return b.Finish();
}

}  // namespace docket::text
