// Fuzz target: update compile + apply (update::Update, src/update/update.h).
// Input: BSON documents (fuzz_util.h): the first is the update; the second,
// when present, a document to apply it to (besides the fixtures); the rest
// are arrayFilters. An update document whose first field is named "0" (an
// array's layout) is taken as an update pipeline: its sub-documents are the
// stages.
//
// Invariants (abort() when broken), for every document and for is_insert
// false and true, with and without a matched array position:
//   * the result is valid BSON;
//   * *changed is exactly "the bytes differ";
//   * outside an insert, _id keeps its type and value (ImmutableField
//     otherwise);
//   * applying the same compiled update again to the same document gives the
//     same bytes (Apply is a pure function of its inputs; $currentDate is
//     the exception and is skipped);
//   * the oplog's diff of the change (bson/update_diff.h) and the change
//     stream's updateDescription read from it are valid BSON, and the diff
//     of an update that changed nothing is empty.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bson/update_diff.h"
#include "bson/value.h"
#include "engine/change_events.h"
#include "fuzz_util.h"
#include "update/update.h"

using docket_fuzz::CheckValidOutput;
using docket_fuzz::Fail;
using docket::update::Update;

namespace {

bool IsPipelineLayout(const docket::Document& spec, std::vector<docket::Document>* stages) {
  bson_iter_t it;
  spec.Iterate(&it);
  if (!bson_iter_next(&it) || std::strcmp(bson_iter_key(&it), "0") != 0) return false;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
    uint32_t len = 0;
    const uint8_t* bytes = nullptr;
    bson_iter_document(&it, &len, &bytes);
    auto stage = docket::Document::FromBytes(bytes, len);
    if (stage.ok()) stages->push_back(std::move(stage).value());
  }
  return true;
}

bool MentionsCurrentDate(const docket::Document& spec) {
  const std::string& b = spec.bytes();
  return b.find("$currentDate") != std::string::npos || b.find("NOW") != std::string::npos ||
         b.find("CLUSTER_TIME") != std::string::npos || b.find("$rand") != std::string::npos;
}

void ApplyAndCheck(const Update& update, const docket::Document& doc, bool deterministic) {
  for (bool is_insert : {false, true}) {
    for (size_t position : {docket::bson::kNoPosition, size_t{0}, size_t{1}}) {
      bool changed = false;
      auto out = update.Apply(doc, is_insert, position, &changed);
      if (!out.ok()) continue;
      CheckValidOutput(*out, "Update::Apply");
      if (changed != (out->bytes() != doc.bytes())) Fail("*changed is %d but the bytes say otherwise", changed);
      const docket::Document diff = docket::bson::ComputeUpdateDiff(doc, *out);
      CheckValidOutput(diff, "ComputeUpdateDiff");
      if (!changed && !diff.empty()) Fail("the diff of an update that changed nothing is %s", diff.ToJson().c_str());
      CheckValidOutput(docket::engine::UpdateDescriptionFromDiff(diff), "UpdateDescriptionFromDiff");
      if (!is_insert) {
        // _id keeps its type and value (arrays compare by value: an update may
        // rewrite an input array's non-standard field names "0", "1", ...).
        bson_iter_t before;
        bson_iter_t after;
        const bool had = doc.Find("_id", &before);
        const bool has = out->Find("_id", &after);
        if (had && (!has || bson_iter_type(&before) != bson_iter_type(&after) ||
                    docket::bson::CompareValues(before, after) != 0)) {
          Fail("an update changed _id without an error (is_insert false, position %zu): _id %s -> %s",
               position, docket::bson::ValueToJson(before).c_str(),
               has ? docket::bson::ValueToJson(after).c_str() : "(missing)");
        }
      }
      if (deterministic) {
        bool changed_again = false;
        auto again = update.Apply(doc, is_insert, position, &changed_again);
        if (!again.ok() || again->bytes() != out->bytes()) Fail("applying one update twice gave different results");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> docs = docket_fuzz::SplitDocuments(data, size, 6);
  if (docs.empty()) return 0;
  std::vector<docket::Document> array_filters;
  for (size_t i = 2; i < docs.size(); ++i) array_filters.push_back(docs[i]);

  std::vector<docket::Document> stages;
  docket::Result<Update> update = IsPipelineLayout(docs[0], &stages)
                                      ? Update::CompilePipeline(stages, docket::Document(), array_filters)
                                      : Update::Compile(docs[0], Update::Mode::kAny, array_filters);
  if (!update.ok()) return 0;
  const bool deterministic = !MentionsCurrentDate(docs[0]);
  if (docs.size() >= 2) ApplyAndCheck(*update, docs[1], deterministic);
  for (const docket::Document& fixture : docket_fuzz::Fixtures()) ApplyAndCheck(*update, fixture, deterministic);
  return 0;
}
