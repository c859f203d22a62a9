// Fuzz target: projections (query::Projection, src/query/projection.h) in
// their three dialects: find's, $project's and $addFields'.
// Input: BSON documents (fuzz_util.h): the first is the projection, the
// second the find's filter (for the positional "a.$"), the rest are
// projected, together with the fixture documents.
//
// Invariants (abort() when broken): every projected document is valid BSON;
// a projection compiled twice projects the same bytes (outside $rand/$$NOW);
// ApplyMatched on a document the filter matches gives what Apply gives with
// the position MatchesAt found.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "query/filter.h"
#include "query/projection.h"

using docket_fuzz::CheckValidOutput;
using docket_fuzz::Fail;
using docket::query::Filter;
using docket::query::Projection;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> docs = docket_fuzz::SplitDocuments(data, size, 6);
  if (docs.empty()) return 0;
  const docket::Document query = docs.size() >= 2 ? docs[1] : docket::Document();
  auto filter = Filter::Compile(query);

  std::vector<const docket::Document*> targets;
  for (size_t i = 2; i < docs.size(); ++i) targets.push_back(&docs[i]);
  for (const docket::Document& d : docket_fuzz::Fixtures()) targets.push_back(&d);
  const std::string& spec_bytes = docs[0].bytes();
  const bool deterministic = spec_bytes.find("$rand") == std::string::npos &&
                             spec_bytes.find("NOW") == std::string::npos &&
                             spec_bytes.find("CLUSTER_TIME") == std::string::npos;

  // A budget of output per input: a legitimate projection that builds
  // nearly 16 MB ($range) is checked on a few documents, not on every
  // target in every dialect (about 70 applications, which took seconds
  // under ASan and read as a hang).
  constexpr size_t kOutputBudget = size_t{48} << 20;
  size_t produced = 0;
  for (Projection::Dialect dialect :
       {Projection::Dialect::kFind, Projection::Dialect::kAggregate, Projection::Dialect::kAddFields}) {
    auto projection = Projection::Compile(docs[0], &query, dialect);
    if (!projection.ok()) continue;
    auto twin = Projection::Compile(docs[0], &query, dialect);
    if (!twin.ok()) Fail("the same projection compiled once and then failed");
    for (const docket::Document* doc : targets) {
      if (produced > kOutputBudget) return 0;
      auto out = projection->Apply(*doc);
      if (out.ok()) {
        produced += out->size();
        CheckValidOutput(*out, "Projection::Apply");
        if (deterministic) {
          auto again = twin->Apply(*doc);
          if (!again.ok() || again->bytes() != out->bytes()) Fail("two compilations of one projection disagree");
        }
      }
      if (!filter.ok()) continue;
      size_t position = docket::bson::kNoPosition;
      if (!filter->MatchesAt(doc->data(), doc->size(), &position)) continue;
      auto matched = projection->ApplyMatched(*doc, *filter);
      if (!matched.ok()) continue;
      CheckValidOutput(*matched, "Projection::ApplyMatched");
      if (deterministic) {
        auto at = projection->Apply(*doc, position);
        if (!at.ok() || at->bytes() != matched->bytes()) Fail("ApplyMatched differs from Apply at MatchesAt's position");
      }
    }
  }
  return 0;
}
