// Text search's stop words: Snowball's lists as Debian's
// liblingua-stopwords-perl ships them, turned into C++ at build time by
// tools/gen_stop_words.pl (the generated stop_words_data.cc is in the build
// tree, never in the repository).
#pragma once

namespace docket::text {

struct StopWordList {
  const char* code;          // Lingua::StopWords' language code ("en")
  const char* const* words;  // UTF-8, lower case, null-terminated list
};

// Ends with {nullptr, nullptr}.
extern const StopWordList kStopWordLists[];

}  // namespace docket::text
