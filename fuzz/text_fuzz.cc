// Fuzz target: text search's tokenizer, folding and $search parsing
// (src/text/). Input: arbitrary bytes, read as a $search string (and the
// text of a document); the first byte picks the language and the
// sensitivity options.
//
// Invariants (abort() when broken):
//   * every word ForEachWord gives is a non-empty piece of the input that
//     splits into itself again (words hold no delimiter);
//   * FoldWord and StripDiacritics are idempotent (on valid UTF-8);
//   * a document matching the query has a positive, finite score;
//   * a document whose text is the $search string itself matches the query
//     when the query has a term and no negation and is not case or
//     diacritic sensitive (its terms and phrases are all in the string).
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "bson/builder.h"
#include "fuzz_util.h"
#include "text/text_index_spec.h"
#include "text/text_search.h"
#include "text/text_tokenizer.h"

using docket_fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  static const char* const kLanguages[] = {"english", "french", "turkish", "russian", "none", "german"};
  const char* language_name = kLanguages[data[0] % 6];
  const bool case_sensitive = (data[0] & 0x40) != 0;
  const bool diacritic_sensitive = (data[0] & 0x80) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const docket::text::TextLanguage& language = *docket::text::FindTextLanguage(language_name);

  docket::text::ForEachWord(text, language, [&](std::string_view word) {
    if (word.empty()) Fail("empty word");
    if (word.data() < text.data() || word.data() + word.size() > text.data() + text.size()) Fail("word outside the text");
    int pieces = 0;
    docket::text::ForEachWord(word, language, [&](std::string_view again) {
      ++pieces;
      if (again != word) Fail("a word splits further");
    });
    if (pieces != 1) Fail("a word splits into %d pieces", pieces);
    // Folding keeps invalid bytes as they are, so removing a diacritic may
    // join them into a valid sequence: idempotence holds for valid UTF-8
    // (what documents and BSON strings hold) only.
    if (!bson_utf8_validate(word.data(), word.size(), false)) return;
    const std::string folded = docket::text::FoldWord(word, {.turkish = language.turkish_case});
    if (docket::text::FoldWord(folded, {.turkish = language.turkish_case}) != folded) Fail("FoldWord not idempotent");
    const std::string stripped = docket::text::StripDiacritics(word);
    if (docket::text::StripDiacritics(stripped) != stripped) Fail("StripDiacritics not idempotent");
  });

  // Only valid UTF-8 goes into documents (BSON strings are UTF-8).
  if (!bson_utf8_validate(text.data(), text.size(), false)) return 0;
  bson_t spec_bson = BSON_INITIALIZER;
  bson_t key, weights;
  BSON_APPEND_DOCUMENT_BEGIN(&spec_bson, "key", &key);
  BSON_APPEND_UTF8(&key, "_fts", "text");
  BSON_APPEND_INT32(&key, "_ftsx", 1);
  bson_append_document_end(&spec_bson, &key);
  BSON_APPEND_DOCUMENT_BEGIN(&spec_bson, "weights", &weights);
  BSON_APPEND_INT32(&weights, "a", 1);
  bson_append_document_end(&spec_bson, &weights);
  BSON_APPEND_UTF8(&spec_bson, "default_language", language_name);
  auto spec = docket::text::TextIndexSpec::FromIndexSpec(docket::Document::FromTrustedBytes(
      std::string(reinterpret_cast<const char*>(bson_get_data(&spec_bson)), spec_bson.len)));
  bson_destroy(&spec_bson);
  if (!spec.ok()) Fail("spec: %s", spec.status().ToString().c_str());

  docket::text::TextSearchOptions options;
  options.search = std::string(text);
  options.case_sensitive = case_sensitive;
  options.diacritic_sensitive = diacritic_sensitive;
  auto query = docket::text::TextQuery::Make(options, **spec);
  if (!query.ok()) Fail("TextQuery::Make: %s", query.status().ToString().c_str());

  docket::bson::Builder doc_builder;
  bson_append_utf8(doc_builder.get(), "a", 1, text.data(), static_cast<int>(text.size()));
  const docket::Document doc = doc_builder.Finish();
  auto matched = query->Matches(doc, **spec);
  if (!matched.ok()) Fail("Matches: %s", matched.status().ToString().c_str());
  const double score = query->Score(doc, **spec);
  if (!std::isfinite(score) || score < 0) Fail("score %f", score);
  if (*matched && !(score > 0)) Fail("a match with score %f", score);

  const docket::Document parsed = query->Describe();
  bson_iter_t negated, negated_phrases, n, p;
  parsed.Find("negatedTerms", &negated);
  parsed.Find("negatedPhrases", &negated_phrases);
  bson_iter_recurse(&negated, &n);
  bson_iter_recurse(&negated_phrases, &p);
  const bool has_negation = bson_iter_next(&n) || bson_iter_next(&p);
  if (!query->terms().empty() && !has_negation && !case_sensitive && !diacritic_sensitive && !*matched) {
    Fail("the search string's own document does not match it");
  }
  return 0;
}
