// Fuzz target: filter compile + match (query::Filter, src/query/filter.h).
// Input: BSON documents (fuzz_util.h): the first is the filter, the others are
// matched against it together with the fixture documents.
//
// Invariants (abort() when broken), for every document:
//   * Evaluate agrees with Matches (an $expr error counts as no match);
//     MatchesAt and EvaluateAt agree with them;
//   * compiling the same filter twice gives a filter that answers the same;
//   * matches_everything() filters match every document;
//   * when the filter fixes _id (id_equality()), a matching document's _id
//     compares equal to that value (the engine reads that one record instead
//     of scanning; this is the guard that the shortcut loses nothing);
//   * update::SeedFromFilter (an upsert's starting document) is valid BSON;
//   * under a collation (case- and accent-insensitive English) the same
//     agreements hold, and an _id equality is only offered when the _id
//     holds no string, and then the matched _id equals it under the collation.
#include <cstdint>
#include <string_view>
#include <vector>

#include "bson/value.h"
#include "fuzz_util.h"
#include "query/filter.h"
#include "text/collation.h"
#include "update/update.h"

using docket_fuzz::CheckValidOutput;
using docket_fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> docs = docket_fuzz::SplitDocuments(data, size, 6);
  if (docs.empty()) return 0;
  auto filter = docket::query::Filter::Compile(docs[0]);
  auto seed = docket::update::SeedFromFilter(docs[0]);
  if (seed.ok()) CheckValidOutput(*seed, "SeedFromFilter");
  if (!filter.ok()) return 0;
  auto again = docket::query::Filter::Compile(docs[0]);
  if (!again.ok()) Fail("the same filter compiled once and then failed");
  // $sampleRate and $rand draw afresh at every match: the agreements below
  // need a filter that answers the same twice.
  const std::string_view filter_bytes(reinterpret_cast<const char*>(docs[0].data()), docs[0].size());
  if (filter_bytes.find("$sampleRate") != std::string_view::npos || filter_bytes.find("$rand") != std::string_view::npos) {
    return 0;
  }

  std::vector<const docket::Document*> targets;
  for (size_t i = 1; i < docs.size(); ++i) targets.push_back(&docs[i]);
  for (const docket::Document& d : docket_fuzz::Fixtures()) targets.push_back(&d);

  static const docket::text::CollatorPtr collator =
      *docket::text::Collator::Make(*docket::Document::FromJson(R"({"locale": "en", "strength": 1})"));
  auto collated = docket::query::Filter::Compile(docs[0], nullptr, collator);
  if (!collated.ok()) Fail("a filter compiles without a collation and not with one: %s", collated.status().ToString().c_str());
  if (collated->id_equality().has_value()) {
    bson_iter_t v;
    if (!collated->id_equality()->Find("", &v) || docket::bson::HasStrings(v)) {
      Fail("a collated filter offers an _id equality on a value holding strings");
    }
  }

  const docket_fuzz::InputBudget budget;
  for (const docket::Document* doc : targets) {
    if (budget.Exhausted()) return 0;
    const bool matches = filter->Matches(*doc);
    auto evaluated = filter->Evaluate(doc->data(), doc->size());
    if (evaluated.ok() ? *evaluated != matches : matches) {
      Fail("Matches says %d, Evaluate says %s", matches, evaluated.ok() ? (*evaluated ? "true" : "false") : "error");
    }
    size_t position = 0;
    if (filter->MatchesAt(doc->data(), doc->size(), &position) != matches) Fail("MatchesAt disagrees with Matches");
    auto evaluated_at = filter->EvaluateAt(doc->data(), doc->size(), &position);
    if (evaluated_at.ok() != evaluated.ok() || (evaluated.ok() && *evaluated_at != *evaluated)) {
      Fail("EvaluateAt disagrees with Evaluate");
    }
    if (again->Matches(*doc) != matches) Fail("two compilations of one filter disagree");
    const bool collated_matches = collated->Matches(*doc);
    auto collated_evaluated = collated->Evaluate(doc->data(), doc->size());
    if (collated_evaluated.ok() ? *collated_evaluated != collated_matches : collated_matches) {
      Fail("under a collation Matches and Evaluate disagree");
    }
    if (collated_matches && collated->id_equality().has_value()) {
      bson_iter_t id, want;
      if (doc->Find("_id", &id) && collated->id_equality()->Find("", &want) &&
          bson_iter_type(&id) != BSON_TYPE_ARRAY && bson_iter_type(&id) != BSON_TYPE_REGEX &&
          bson_iter_type(&id) != BSON_TYPE_UNDEFINED && docket::bson::CompareValues(id, want, collator.get()) != 0) {
        Fail("a collated match's _id differs from the collated filter's _id equality");
      }
    }
    if (filter->matches_everything() && !matches) Fail("a filter that matches everything did not match");

    if (matches && filter->id_equality().has_value()) {
      bson_iter_t id;
      bson_iter_t want;
      if (!doc->Find("_id", &id)) continue;  // a document without _id is never stored
      const bson_type_t type = bson_iter_type(&id);
      // Stored documents never have these as _id (InsertOne refuses them).
      if (type == BSON_TYPE_ARRAY || type == BSON_TYPE_REGEX || type == BSON_TYPE_UNDEFINED) continue;
      const docket::Document& held = *filter->id_equality();
      if (!held.Find("", &want)) Fail("id_equality() is not a {\"\": value} document");
      if (docket::bson::CompareValues(id, want) != 0) {
        Fail("document matches the filter but its _id differs from id_equality(): %s vs %s",
             docket::bson::ValueToJson(id).c_str(), docket::bson::ValueToJson(want).c_str());
      }
    }
  }
  return 0;
}
