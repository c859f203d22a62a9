// $text: the operator's options, its $search string parsed into terms,
// phrases and negations, and matching and scoring a document against them
// through a text index's spec (text/text_index_spec.h), as MongoDB 6.0 does.
//
// $search: words are positive terms; "a quoted phrase" must appear as it is
// (its words are terms too); a word or phrase right after a '-' that follows
// whitespace (or starts the string) is negated. No escapes: a '"' always
// opens or closes a phrase; an unclosed phrase's words are still terms.
//
// A document matches when some indexed string holds a positive term, some
// indexed string holds each positive phrase, and none holds a negated term
// or phrase. Phrases compare as substrings, folded unless $caseSensitive
// (except for Turkish text) and stripped of diacritics unless
// $diacriticSensitive. A search with no positive term matches nothing.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <bson/bson.h>

#include "docket/document.h"
#include "docket/status.h"
#include "text/text_index_spec.h"

namespace docket::text {

struct TextSearchOptions {
  std::string search;
  std::string language;  // empty: the index's default_language
  bool case_sensitive = false;
  bool diacritic_sensitive = false;
};

// Parses {$search, $language, $caseSensitive, $diacriticSensitive}. Errors:
// BadValue ("$text expects an object", "extra fields in $text", an unknown
// $language), NoSuchKey (no $search), TypeMismatch (a field of the wrong type).
Result<TextSearchOptions> ParseTextOperator(const bson_iter_t& it);

class TextQuery {
 public:
  // Errors: BadValue for a language Docket does not know.
  static Result<TextQuery> Make(const TextSearchOptions& options, const TextIndexSpec& spec);

  // The terms the index is searched for (folded, stemmed; sorted, distinct).
  const std::set<std::string>& terms() const { return terms_; }
  const TextSearchOptions& options() const { return options_; }

  // Errors: the spec's (a document's language_override it cannot use).
  // `doc`: a document's bytes (valid BSON).
  Result<bool> Matches(std::string_view doc, const TextIndexSpec& spec) const;
  Result<bool> Matches(const Document& doc, const TextIndexSpec& spec) const {
    return Matches(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()), spec);
  }
  // The document's textScore: the sum of its scores for terms(). 0 for a
  // document the spec cannot read.
  double Score(std::string_view doc, const TextIndexSpec& spec) const;
  double Score(const Document& doc, const TextIndexSpec& spec) const {
    return Score(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()), spec);
  }
  // explain's parsedTextQuery: {terms, negatedTerms, phrases, negatedPhrases}.
  Document Describe() const;

 private:
  TextSearchOptions options_;
  const TextLanguage* language_ = nullptr;
  std::set<std::string> terms_;                 // for the index (insensitive)
  std::set<std::string> positive_, negated_;    // for matching (sensitive as asked)
  std::vector<std::string> phrases_, negated_phrases_;  // as written
};

}  // namespace docket::text
