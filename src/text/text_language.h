// The languages of text search (textIndexVersion 3), as MongoDB 6.0 names
// them: each by its name or ISO 639-1 code ("english" or "en"), with a
// Snowball stemmer (Debian's libstemmer) and a stop-word list
// (text/stop_words.h); "none" has neither.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

namespace docket::text {

struct TextLanguage {
  const char* name;       // "english": what a spec stores and messages show
  const char* code;       // "en"
  const char* stemmer;    // libstemmer's algorithm; null for "none"
  const char* stop_code;  // the stop-word list's code; null: none
  bool turkish_case;      // case folding maps I to dotless i (Turkish)
  const std::unordered_set<std::string>* stop_words;  // folded (FoldWord); null: none
};

// By name or code, exactly as MongoDB spells them (lower case); null when
// unknown.
const TextLanguage* FindTextLanguage(std::string_view name_or_code);

// Whether `folded` (a word after FoldWord) is one of the language's stop words.
bool IsStopWord(const TextLanguage& language, std::string_view folded);

// The Snowball stem of `folded`; `folded` itself for "none". Thread-safe (a
// stemmer per thread and language: libstemmer's are not reentrant).
std::string Stem(const TextLanguage& language, std::string_view folded);

}  // namespace docket::text
