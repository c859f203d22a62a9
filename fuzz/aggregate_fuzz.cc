// Fuzz target: aggregation parse + run (Collection::Aggregate, and
// Engine::Aggregate for pipelines that start with $documents) over a small
// in-memory database opened once per process (Engine::Open({.in_memory =
// true})): fuzz.c holds the fixture documents (with an index on "a"),
// fuzz.other a few documents for $lookup, $graphLookup and $unionWith.
// Input: BSON documents (fuzz_util.h), one stage each.
//
// Invariants (abort() when broken):
//   * every result document is valid BSON;
//   * a pipeline without $out or $merge leaves the stored data unchanged
//     (the same databases, collections and bytes). After one with $out or
//     $merge the database is put back as it was.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "docket/engine.h"
#include "fuzz_util.h"

using docket_fuzz::CheckValidOutput;
using docket_fuzz::Fail;

namespace {

docket::Engine* engine = nullptr;
std::string baseline;

docket::Document Json(const char* json) {
  auto doc = docket::Document::FromJson(json);
  if (!doc.ok()) Fail("bad JSON in the aggregate target: %s", json);
  return std::move(doc).value();
}

void Load() {
  docket::Collection c = engine->collection("fuzz", "c");
  for (const docket::Document& d : docket_fuzz::Fixtures()) {
    if (!c.InsertOne(d).ok()) Fail("cannot insert a fixture");
  }
  if (!c.CreateIndex(Json(R"({"a": 1})")).ok()) Fail("cannot create the index");
  docket::Collection other = engine->collection("fuzz", "other");
  for (const char* j : {R"({"_id": 1, "k": 5, "parent": null, "v": "five"})",
                        R"({"_id": 2, "k": 1, "parent": 1, "v": [1, 2]})",
                        R"({"_id": 3, "k": "x", "parent": 2, "v": {"w": 1}})"}) {
    if (!other.InsertOne(Json(j)).ok()) Fail("cannot insert into fuzz.other");
  }
}

// Every database, collection and stored document, as one string.
std::string Snapshot() {
  std::string out;
  for (const std::string& db : engine->ListDatabases()) {
    out += "db:" + db + "\n";
    for (const docket::CollectionInfo& info : engine->ListCollections(db)) {
      out += "coll:" + info.name + "\n";
      auto cursor = engine->collection(db, info.name).Find(docket::Document());
      if (!cursor.ok()) Fail("cannot scan %s.%s", db.c_str(), info.name.c_str());
      auto all = cursor->ToVector();
      if (!all.ok()) Fail("cannot scan %s.%s", db.c_str(), info.name.c_str());
      for (const docket::Document& d : *all) out += d.bytes();
    }
  }
  return out;
}

// Drops everything and loads the fixtures again. The fixture without _id
// gets a new ObjectId, so the baseline is taken again.
void Reset() {
  for (const std::string& db : engine->ListDatabases()) {
    if (!engine->DropDatabase(db).ok()) Fail("cannot drop %s", db.c_str());
  }
  Load();
  baseline = Snapshot();
}

bool Writes(const std::vector<docket::Document>& stages) {
  for (const docket::Document& stage : stages) {
    const std::string& b = stage.bytes();
    if (b.find("$out") != std::string::npos || b.find("$merge") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  docket::EngineOptions options;
  options.in_memory = true;
  options.ttl_monitor_seconds = 0;
  options.query_memory_limit_bytes = 16 << 20;  // reach the spilling paths sooner
  auto opened = docket::Engine::Open(options);
  if (!opened.ok()) Fail("Engine::Open: %s", opened.status().ToString().c_str());
  engine = opened->release();  // lives as long as the process
  Load();
  baseline = Snapshot();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> stages = docket_fuzz::SplitDocuments(data, size, 8);
  if (stages.empty()) return 0;
  const bool writes = Writes(stages);
  bson_iter_t first;
  stages[0].Iterate(&first);
  const bool collectionless = bson_iter_next(&first) && std::strcmp(bson_iter_key(&first), "$documents") == 0;

  docket::AggregateOptions options;
  options.batch_size = 5;
  auto cursor = collectionless ? engine->Aggregate("fuzz", stages, options)
                               : engine->collection("fuzz", "c").Aggregate(stages, options);
  if (cursor.ok()) {
    for (int batches = 0; batches < 1000; ++batches) {
      auto batch = cursor->NextBatch();
      if (!batch.ok() || batch->empty()) break;
      for (const docket::Document& d : *batch) CheckValidOutput(d, "Aggregate");
    }
  }
  if (writes) {
    Reset();
  } else if (Snapshot() != baseline) {
    Fail("a pipeline without $out or $merge changed the stored data");
  }
  return 0;
}
