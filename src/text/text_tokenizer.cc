#include "text/text_tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <array>
#include <unordered_map>

namespace docket::text {
namespace {

// Decodes the code point at s[*i], advancing *i; an invalid byte comes back
// as a negative value and advances one byte.
UChar32 NextCodePoint(std::string_view s, size_t* i) {
  UChar32 c;
  int32_t at = static_cast<int32_t>(*i);
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), at, static_cast<int32_t>(s.size()), c);
  *i = static_cast<size_t>(at);
  return c;
}

void AppendCodePoint(std::string* out, UChar32 c) {
  char buf[4];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, 4, c, error);
  if (!error) out->append(buf, static_cast<size_t>(len));
}

bool IsDelimiter(UChar32 c, bool english) {
  if (c < 0) return false;
  if (c == '\'' && english) return false;
  if (c < 0x80) {
    // The ASCII delimiters, computed once from the same properties.
    static const auto ascii = [] {
      std::array<bool, 128> table{};
      for (UChar32 a = 0; a < 128; ++a) {
        table[static_cast<size_t>(a)] =
            u_hasBinaryProperty(a, UCHAR_WHITE_SPACE) || u_hasBinaryProperty(a, UCHAR_DASH) ||
            u_hasBinaryProperty(a, UCHAR_HYPHEN) || u_hasBinaryProperty(a, UCHAR_QUOTATION_MARK) ||
            u_hasBinaryProperty(a, UCHAR_TERMINAL_PUNCTUATION) || u_hasBinaryProperty(a, UCHAR_PATTERN_SYNTAX) ||
            u_hasBinaryProperty(a, UCHAR_S_TERM);
      }
      return table;
    }();
    return ascii[static_cast<size_t>(c)];
  }
  return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) || u_hasBinaryProperty(c, UCHAR_DASH) ||
         u_hasBinaryProperty(c, UCHAR_HYPHEN) || u_hasBinaryProperty(c, UCHAR_QUOTATION_MARK) ||
         u_hasBinaryProperty(c, UCHAR_TERMINAL_PUNCTUATION) || u_hasBinaryProperty(c, UCHAR_PATTERN_SYNTAX) ||
         u_hasBinaryProperty(c, UCHAR_S_TERM);
}

// What a code point becomes without diacritics: 0 (dropped) for a
// diacritic; the base letter for a precomposed letter whose decomposition
// is one code point once its diacritics go; itself otherwise.
UChar32 WithoutDiacritics(UChar32 c) {
  if (c < 0) return c;
  if (u_hasBinaryProperty(c, UCHAR_DIACRITIC)) return 0;
  if (c < 0xC0) return c;  // no precomposed letters below À
  thread_local std::unordered_map<UChar32, UChar32> memo;
  auto found = memo.find(c);
  if (found != memo.end()) return found->second;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  UChar32 mapped = c;
  icu::UnicodeString decomposed;
  if (U_SUCCESS(status) && nfd->getDecomposition(c, decomposed)) {
    icu::UnicodeString kept;
    for (int32_t i = 0; i < decomposed.length();) {
      UChar32 part = decomposed.char32At(i);
      if (!u_hasBinaryProperty(part, UCHAR_DIACRITIC)) kept.append(part);
      i += U16_LENGTH(part);
    }
    icu::UnicodeString composed = nfc->normalize(kept, status);
    if (U_SUCCESS(status) && composed.countChar32() == 1) mapped = composed.char32At(0);
  }
  memo.emplace(c, mapped);
  return mapped;
}

}  // namespace

std::string FoldWord(std::string_view word, FoldOptions options) {
  std::string out;
  out.reserve(word.size());
  const uint32_t mode = options.turkish ? U_FOLD_CASE_EXCLUDE_SPECIAL_I : U_FOLD_CASE_DEFAULT;
  for (size_t i = 0; i < word.size();) {
    const size_t at = i;
    UChar32 c = NextCodePoint(word, &i);
    if (c < 0) {
      out.append(word.substr(at, i - at));
    } else if (c < 0x80 && !(options.turkish && c == 'I')) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    } else {
      AppendCodePoint(&out, u_foldCase(c, mode));
    }
  }
  return out;
}

std::string StripDiacritics(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (size_t i = 0; i < word.size();) {
    const size_t at = i;
    UChar32 c = NextCodePoint(word, &i);
    if (c < 0) {
      out.append(word.substr(at, i - at));
      continue;
    }
    UChar32 base = WithoutDiacritics(c);
    if (base != 0) AppendCodePoint(&out, base);
  }
  return out;
}

void ForEachWord(std::string_view text, const TextLanguage& language,
                 const std::function<void(std::string_view word)>& fn) {
  const bool english = std::string_view(language.name) == "english";
  size_t i = 0;
  size_t start = std::string_view::npos;
  while (i < text.size()) {
    const size_t at = i;
    UChar32 c = NextCodePoint(text, &i);
    if (IsDelimiter(c, english)) {
      if (start != std::string_view::npos) fn(text.substr(start, at - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = at;
    }
  }
  if (start != std::string_view::npos) fn(text.substr(start));
}

namespace {

std::string ComputeTermOf(std::string_view word, const TextLanguage& language, TokenOptions options) {
  std::string lowered = FoldWord(word, FoldOptions{.turkish = language.turkish_case});
  if (options.drop_stop_words && IsStopWord(language, lowered)) return std::string();
  std::string stemmed = Stem(language, options.case_sensitive ? word : std::string_view(lowered));
  return options.diacritic_sensitive ? stemmed : StripDiacritics(stemmed);
}

}  // namespace

std::string TermOf(std::string_view word, const TextLanguage& language, TokenOptions options) {
  // Words recur (natural text is mostly common words), and folding and
  // stemming are most of a search's time: a memo per thread of recent
  // words' terms, keyed by language, options and word; emptied when full.
  constexpr size_t kMemoMax = 1 << 16;
  thread_local std::unordered_map<std::string, std::string> memo;
  thread_local std::string key;
  key.clear();
  key.append(reinterpret_cast<const char*>(&language), sizeof(&language));
  key.push_back(static_cast<char>(options.drop_stop_words | options.case_sensitive << 1 |
                                  options.diacritic_sensitive << 2));
  key.append(word);
  auto found = memo.find(key);
  if (found != memo.end()) return found->second;
  if (memo.size() >= kMemoMax) memo.clear();
  std::string term = ComputeTermOf(word, language, options);
  memo.emplace(key, term);
  return term;
}

void ForEachTerm(std::string_view text, const TextLanguage& language, TokenOptions options,
                 const std::function<void(std::string term)>& fn) {
  ForEachWord(text, language, [&](std::string_view word) {
    std::string term = TermOf(word, language, options);
    if (!term.empty()) fn(std::move(term));
  });
}

}  // namespace docket::text
