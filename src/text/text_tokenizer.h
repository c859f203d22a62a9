// Text search's tokenizer (MongoDB's textIndexVersion 3): words are the runs
// between delimiters, folded to the terms an index stores and a $search
// looks up.
//
// Delimiters are the code points with any of the Unicode properties
// White_Space, Dash, Hyphen, Quotation_Mark, Terminal_Punctuation,
// Pattern_Syntax and STerm (as ICU reports them), except that for English
// the apostrophe joins ("don't" is one word). A word becomes a term so:
// lower-cased (Unicode case folding; Turkish folds I to dotless i), dropped
// if a stop word, stemmed (Snowball), then stripped of diacritics (a
// code point with the Diacritic property goes; one that decomposes into a
// base and diacritics becomes its base). Case- and diacritic-sensitive
// searches keep the original case or the diacritics.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "text/text_language.h"

namespace docket::text {

struct FoldOptions {
  bool turkish = false;
};
// Unicode case folding of `word` (UTF-8; invalid bytes are kept as they are).
std::string FoldWord(std::string_view word, FoldOptions options = {});
// `word` without its diacritics.
std::string StripDiacritics(std::string_view word);

struct TokenOptions {
  bool drop_stop_words = true;
  bool case_sensitive = false;
  bool diacritic_sensitive = false;
};

// Calls fn with each word of `text` (a view into it), in order.
void ForEachWord(std::string_view text, const TextLanguage& language,
                 const std::function<void(std::string_view word)>& fn);

// The term of one word, or "" when it is a stop word (and they are dropped).
std::string TermOf(std::string_view word, const TextLanguage& language, TokenOptions options = {});

// Calls fn with the term of each word of `text` that is not dropped.
void ForEachTerm(std::string_view text, const TextLanguage& language, TokenOptions options,
                 const std::function<void(std::string term)>& fn);

}  // namespace docket::text
