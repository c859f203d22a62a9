#include "text/text_search.h"

#include "bson/builder.h"
#include "bson/type_names.h"
#include "text/text_tokenizer.h"

namespace docket::text {
namespace {

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

Status WrongType(std::string_view field, const char* expected, const bson_iter_t& it) {
  return Status(ErrorCode::kTypeMismatch, "\"" + std::string(field) + "\" had the wrong type. Expected " + expected +
                                              ", found " + bson::TypeAlias(bson_iter_type(&it)));
}

bool IsSearchSpace(char c) { return c == ' ' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// $search split into words and phrases, each positive or negated.
struct ParsedSearch {
  std::string positive_words, negated_words;  // joined with spaces
  std::vector<std::string> phrases, negated_phrases;
};

ParsedSearch SplitSearch(std::string_view s) {
  ParsedSearch out;
  bool in_phrase = false, negating = false, phrase_negated = false;
  size_t phrase_start = 0;
  bool after_space = true;  // the start counts as whitespace
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (IsSearchSpace(c)) {
      after_space = true;
      ++i;
      continue;
    }
    if (c == '"') {
      if (in_phrase) {
        (phrase_negated ? out.negated_phrases : out.phrases).push_back(std::string(s.substr(phrase_start, i - phrase_start)));
        in_phrase = false;
      } else {
        if (after_space) negating = false;
        in_phrase = true;
        phrase_negated = negating;
        phrase_start = i + 1;
      }
      after_space = false;
      ++i;
      continue;
    }
    if (c == '-' && !in_phrase) {
      // A negation starts after whitespace and lasts until the next word
      // after whitespace: "-a-b" negates both, "a-b" neither.
      if (after_space) negating = true;
      after_space = false;
      ++i;
      continue;
    }
    // A run of text.
    size_t end = i;
    while (end < s.size() && !IsSearchSpace(s[end]) && s[end] != '"' && (in_phrase || s[end] != '-')) ++end;
    std::string_view word = s.substr(i, end - i);
    if (after_space && !in_phrase) negating = false;
    if (in_phrase) {
      if (!phrase_negated) (out.positive_words += ' ') += word;
    } else {
      ((negating ? out.negated_words : out.positive_words) += ' ') += word;
    }
    after_space = false;
    i = end;
  }
  return out;
}

// `s` folded as phrases compare: lower case unless case-sensitive (always
// for Turkish), without diacritics unless diacritic-sensitive.
std::string FoldForPhrase(std::string_view s, const TextSearchOptions& options, const TextLanguage& language) {
  std::string out(s);
  if (!options.case_sensitive || language.turkish_case) out = FoldWord(out, FoldOptions{.turkish = language.turkish_case});
  if (!options.diacritic_sensitive) out = StripDiacritics(out);
  return out;
}

}  // namespace

Result<TextSearchOptions> ParseTextOperator(const bson_iter_t& it) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Status(ErrorCode::kBadValue, "$text expects an object");
  TextSearchOptions out;
  bool has_search = false;
  int known = 0, fields = 0;
  bson_iter_t f;
  bson_iter_recurse(&it, &f);
  while (bson_iter_next(&f)) {
    ++fields;
    std::string_view name = Key(f);
    if (name == "$search") {
      ++known;
      if (!BSON_ITER_HOLDS_UTF8(&f)) return WrongType(name, "string", f);
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&f, &len);
      out.search.assign(s, len);
      has_search = true;
    } else if (name == "$language") {
      ++known;
      if (!BSON_ITER_HOLDS_UTF8(&f)) return WrongType(name, "string", f);
      out.language = bson_iter_utf8(&f, nullptr);
    } else if (name == "$caseSensitive" || name == "$diacriticSensitive") {
      ++known;
      if (!BSON_ITER_HOLDS_BOOL(&f)) return WrongType(name, "bool", f);
      (name == "$caseSensitive" ? out.case_sensitive : out.diacritic_sensitive) = bson_iter_bool(&f);
    }
  }
  if (!has_search) return Status(ErrorCode::kNoSuchKey, "Missing expected field \"$search\"");
  if (known != fields) return Status(ErrorCode::kBadValue, "extra fields in $text");
  if (!out.language.empty() && FindTextLanguageIgnoringCase(out.language) == nullptr) {
    return Status(ErrorCode::kBadValue, "unsupported language: \"" + out.language + "\" for text index version 3");
  }
  return out;
}

Result<TextQuery> TextQuery::Make(const TextSearchOptions& options, const TextIndexSpec& spec) {
  TextQuery q;
  q.options_ = options;
  q.language_ = options.language.empty() ? &spec.default_language() : FindTextLanguageIgnoringCase(options.language);
  if (q.language_ == nullptr) {
    return Status(ErrorCode::kBadValue, "unsupported language: \"" + options.language + "\" for text index version 3");
  }
  ParsedSearch parsed = SplitSearch(options.search);
  const TokenOptions sensitive{.drop_stop_words = true, .case_sensitive = options.case_sensitive,
                               .diacritic_sensitive = options.diacritic_sensitive};
  ForEachWord(parsed.positive_words, *q.language_, [&](std::string_view word) {
    std::string term = TermOf(word, *q.language_);
    if (term.empty()) return;
    q.terms_.insert(term);
    q.positive_.insert(TermOf(word, *q.language_, sensitive));
  });
  ForEachTerm(parsed.negated_words, *q.language_, sensitive, [&](std::string term) { q.negated_.insert(term); });
  q.phrases_ = std::move(parsed.phrases);
  q.negated_phrases_ = std::move(parsed.negated_phrases);
  return q;
}

Result<bool> TextQuery::Matches(std::string_view doc, const TextIndexSpec& spec) const {
  if (terms_.empty()) return false;
  // Phrases first: a substring test per string, much cheaper than the
  // terms, and what rejects most of a phrase search's candidates.
  if (!phrases_.empty() || !negated_phrases_.empty()) {
    std::vector<bool> phrase_found(phrases_.size(), false);
    bool negated_phrase_found = false;
    Status s = spec.ForEachString(doc, [&](std::string_view value, double, const TextLanguage& language) {
      if (negated_phrase_found) return;
      const std::string folded = FoldForPhrase(value, options_, language);
      for (size_t i = 0; i < phrases_.size(); ++i) {
        if (!phrase_found[i] && folded.find(FoldForPhrase(phrases_[i], options_, language)) != std::string::npos) {
          phrase_found[i] = true;
        }
      }
      for (const std::string& phrase : negated_phrases_) {
        if (folded.find(FoldForPhrase(phrase, options_, language)) != std::string::npos) negated_phrase_found = true;
      }
    });
    if (!s.ok()) return s;
    if (negated_phrase_found) return false;
    for (bool found : phrase_found) {
      if (!found) return false;
    }
  }
  const TokenOptions sensitive{.drop_stop_words = false, .case_sensitive = options_.case_sensitive,
                               .diacritic_sensitive = options_.diacritic_sensitive};
  bool has_positive = false, has_negated = false;
  Status s = spec.ForEachString(doc, [&](std::string_view value, double, const TextLanguage& language) {
    if (has_negated || (has_positive && negated_.empty())) return;  // decided
    ForEachTerm(value, language, sensitive, [&](std::string term) {
      if (positive_.count(term) > 0) has_positive = true;
      if (negated_.count(term) > 0) has_negated = true;
    });
  });
  if (!s.ok()) return s;
  return has_positive && !has_negated;
}

double TextQuery::Score(std::string_view doc, const TextIndexSpec& spec) const {
  std::map<std::string, double> scores;
  if (!spec.TermScores(doc, &scores).ok()) return 0;
  double total = 0;
  for (const std::string& term : terms_) {
    auto found = scores.find(term);
    if (found != scores.end()) total += found->second;
  }
  return total;
}

Document TextQuery::Describe() const {
  bson::Builder out;
  auto strings = [&](const char* name, const auto& list) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(out.get(), name, &array);
    int i = 0;
    for (const std::string& s : list) {
      const std::string key = std::to_string(i++);
      bson_append_utf8(&array, key.c_str(), -1, s.data(), static_cast<int>(s.size()));
    }
    bson_append_array_end(out.get(), &array);
  };
  strings("terms", positive_);
  strings("negatedTerms", negated_);
  strings("phrases", phrases_);
  strings("negatedPhrases", negated_phrases_);
  return out.Finish();
}

}  // namespace docket::text
