// What a text index indexes (MongoDB's textIndexVersion 3): which strings of
// a document, with which weight and language, and the score each term gets.
// Built from a normalised index spec (index/index.h), whose text part is
// {key: {..prefix, _fts: "text", _ftsx: 1, ..suffix}, weights,
// default_language, language_override, textIndexVersion}.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "text/text_language.h"

namespace docket::text {

// Immutable; shared by the index and the $text filters bound to it.
class TextIndexSpec {
 public:
  // From a normalised spec. Errors: 28682 for a stored language Docket does
  // not know.
  static Result<std::shared_ptr<const TextIndexSpec>> FromIndexSpec(const Document& spec);

  const TextLanguage& default_language() const { return *default_language_; }
  const std::string& language_override() const { return language_override_; }
  bool wildcard() const { return wildcard_; }
  // The dotted paths of the fields before and after the text part of the key.
  const std::vector<std::string>& prefix_fields() const { return prefix_fields_; }
  const std::vector<std::string>& suffix_fields() const { return suffix_fields_; }

  // Calls fn with every string the index reads in `doc`: at a weighted path
  // (through arrays, one level, and documents on the way), or anywhere with
  // the wildcard ($**, but never a language_override field); each with its
  // field's weight (1 without one) and its language: the nearest enclosing
  // document's language_override field, else the default. Errors: 17261 (a
  // language_override that is not a string), 17262 (a language Docket does
  // not know).
  using StringVisitor = std::function<void(std::string_view value, double weight, const TextLanguage& language)>;
  Status ForEachString(const Document& doc, const StringVisitor& fn) const {
    return ForEachString(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()), fn);
  }
  // The same over a document's bytes (valid BSON).
  Status ForEachString(std::string_view doc, const StringVisitor& fn) const;

  // The score of each term of `doc` (MongoDB's: per string, a term met c
  // times among N terms scores weight * (2 - 2^(1-c)) * (0.5 + 0.5 c / N),
  // times 1.1 when the whole string is that term; summed over strings).
  // Errors: ForEachString's.
  Status TermScores(std::string_view doc, std::map<std::string, double>* scores) const;
  Status TermScores(const Document& doc, std::map<std::string, double>* scores) const {
    return TermScores(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()), scores);
  }

 private:
  const TextLanguage* default_language_ = nullptr;
  std::string language_override_ = "language";
  std::map<std::string, double> weights_;  // dotted path -> weight ("$**" included when wildcard)
  bool wildcard_ = false;
  std::vector<std::string> prefix_fields_, suffix_fields_;
};

// createIndexes' text part. IsTextKeyPattern: whether `key` makes a text
// index (a "text" field, or the stored form's _fts). NormalizeTextIndex
// returns the key to store ({..prefix, _fts: "text", _ftsx: 1, ..suffix})
// and sets *options to the text options to store after it: {weights,
// default_language, language_override, textIndexVersion}, from `spec`'s own
// or the defaults (english, "language", 3). Only textIndexVersion 3 is
// built. Errors: CannotCreateIndex (67) with MongoDB's messages.
bool IsTextKeyPattern(const Document& key);
Result<Document> NormalizeTextIndex(const Document& key, const Document& spec, Document* options);

// Languages by name or code, case-insensitively ("EN" is English), as
// text index options and $language take them. Null when unknown.
const TextLanguage* FindTextLanguageIgnoringCase(std::string_view name);

}  // namespace docket::text
