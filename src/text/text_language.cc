#include "text/text_language.h"

#include <libstemmer.h>

#include <array>
#include <map>
#include <memory>

#include "text/stop_words.h"
#include "text/text_tokenizer.h"

namespace docket::text {
namespace {

// Lingua::StopWords has no Turkish list: Turkish is stemmed without stop words.
std::array<TextLanguage, 16> kLanguages = {{
    {"danish", "da", "danish", "da", false, nullptr},
    {"dutch", "nl", "dutch", "nl", false, nullptr},
    {"english", "en", "english", "en", false, nullptr},
    {"finnish", "fi", "finnish", "fi", false, nullptr},
    {"french", "fr", "french", "fr", false, nullptr},
    {"german", "de", "german", "de", false, nullptr},
    {"hungarian", "hu", "hungarian", "hu", false, nullptr},
    {"italian", "it", "italian", "it", false, nullptr},
    {"norwegian", "nb", "norwegian", "no", false, nullptr},
    {"portuguese", "pt", "portuguese", "pt", false, nullptr},
    {"romanian", "ro", "romanian", "ro", false, nullptr},
    {"russian", "ru", "russian", "ru", false, nullptr},
    {"spanish", "es", "spanish", "es", false, nullptr},
    {"swedish", "sv", "swedish", "sv", false, nullptr},
    {"turkish", "tr", "turkish", nullptr, true, nullptr},
    {"none", "none", nullptr, nullptr, false, nullptr},
}};

// The stop words of each language, folded as index terms are, made once.
const std::array<TextLanguage, 16>& Languages() {
  static const bool loaded = [] {
    for (TextLanguage& language : kLanguages) {
      if (language.stop_code == nullptr) continue;
      for (const StopWordList* list = kStopWordLists; list->code != nullptr; ++list) {
        if (std::string_view(list->code) != language.stop_code) continue;
        auto* words = new std::unordered_set<std::string>();  // lives as long as the program
        for (const char* const* word = list->words; *word != nullptr; ++word) {
          words->insert(FoldWord(*word, FoldOptions{.turkish = language.turkish_case}));
        }
        language.stop_words = words;
      }
    }
    return true;
  }();
  (void)loaded;
  return kLanguages;
}

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

}  // namespace

const TextLanguage* FindTextLanguage(std::string_view name_or_code) {
  for (const TextLanguage& language : Languages()) {
    if (name_or_code == language.name || name_or_code == language.code) return &language;
  }
  return nullptr;
}

bool IsStopWord(const TextLanguage& language, std::string_view folded) {
  return language.stop_words != nullptr && language.stop_words->count(std::string(folded)) > 0;
}

std::string Stem(const TextLanguage& language, std::string_view folded) {
  if (language.stemmer == nullptr) return std::string(folded);
  thread_local std::map<const TextLanguage*, std::unique_ptr<sb_stemmer, StemmerDeleter>> stemmers;
  auto& stemmer = stemmers[&language];
  if (stemmer == nullptr) stemmer.reset(sb_stemmer_new(language.stemmer, "UTF_8"));
  if (stemmer == nullptr) return std::string(folded);  // libstemmer lacks it (never, for these names)
  const sb_symbol* stemmed = sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(folded.data()),
                                             static_cast<int>(folded.size()));
  if (stemmed == nullptr) return std::string(folded);  // out of memory inside libstemmer
  return std::string(reinterpret_cast<const char*>(stemmed), static_cast<size_t>(sb_stemmer_length(stemmer.get())));
}

}  // namespace docket::text
