#include "bench/query_data.h"

#include <bson/bson.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace docket::bench {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kPad(200, 'x');
const char* const kCategories[] = {"books", "music", "garden", "toys", "tools", "food", "games", "shoes"};

Collection Docs(Engine* engine) { return engine->collection("bench", "docs"); }

}  // namespace

void Die(const std::string& what) {
  fmt::print(stderr, "query bench: {}\n", what);
  std::exit(1);
}

Values Row(int64_t i) {
  uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
  return Values{i, static_cast<int64_t>((static_cast<uint64_t>(i) * 7919) % static_cast<uint64_t>(g_docs)),
                i % 1000, static_cast<int64_t>((h >> 20) % 1000000), static_cast<int64_t>((h >> 40) % 100000),
                kCategories[(h >> 8) % 8]};
}

std::string RowJson(const Values& r) {
  return fmt::format(R"({{"_id":{},"k":{},"g":{},"v":{},"u":{},"cat":"{}","pad":"{}"}})", r.id, r.k, r.g, r.v, r.u,
                     r.cat, kPad);
}

Document RowBson(const Values& r) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, "_id", r.id);
  BSON_APPEND_INT64(&doc, "k", r.k);
  BSON_APPEND_INT64(&doc, "g", r.g);
  BSON_APPEND_INT64(&doc, "v", r.v);
  BSON_APPEND_INT64(&doc, "u", r.u);
  BSON_APPEND_UTF8(&doc, "cat", r.cat.c_str());
  BSON_APPEND_UTF8(&doc, "pad", kPad.c_str());
  Document d = *Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

int64_t KeyAt(int64_t n) { return ((n < 0 ? -n * 31 : n) * 104729) % g_docs; }
int64_t RangeStartAt(int64_t n) { return ((n < 0 ? -n * 31 : n) * 7351) % 990000; }

std::vector<int64_t> InValuesAt(int64_t n) {
  std::vector<int64_t> out;
  for (int i = 0; i < 100; ++i) out.push_back(KeyAt(n * 100 + i));
  return out;
}

Document J(const std::string& json) { return *Document::FromJson(json); }

Document Eq(const char* field, int64_t v) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, field, v);
  Document d = *Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

Document Range(const char* field, int64_t from, int64_t to) {
  bson_t doc = BSON_INITIALIZER, cond;
  BSON_APPEND_DOCUMENT_BEGIN(&doc, field, &cond);
  BSON_APPEND_INT64(&cond, "$gte", from);
  BSON_APPEND_INT64(&cond, "$lt", to);
  bson_append_document_end(&doc, &cond);
  Document d = *Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

Document In(const char* field, const std::vector<int64_t>& values) {
  bson_t doc = BSON_INITIALIZER, cond, list;
  BSON_APPEND_DOCUMENT_BEGIN(&doc, field, &cond);
  BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &list);
  for (size_t i = 0; i < values.size(); ++i) BSON_APPEND_INT64(&list, std::to_string(i).c_str(), values[i]);
  bson_append_array_end(&cond, &list);
  bson_append_document_end(&doc, &cond);
  Document d = *Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

std::unique_ptr<Engine> OpenFreshDocket(const std::string& path, size_t cache_bytes) {
  std::filesystem::remove_all(path);
  auto opened = Engine::Open({.path = path, .cache_size_bytes = cache_bytes});
  if (!opened.ok()) Die(opened.status().ToString());
  return std::move(opened).value();
}

std::unique_ptr<Engine> OpenDocket(const std::string& path, bool load) {
  if (load) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  EngineOptions options;
  options.path = path;
  // A block cache as big as SQLite's cache_size and PostgreSQL's
  // shared_buffers in the side-by-side run, and a row cache for point reads
  // as big again (the run prints how much of each the data fills).
  options.cache_size_bytes = size_t{1} << 30;
  options.row_cache_bytes = size_t{1} << 30;
  auto opened = Engine::Open(options);
  if (!opened.ok()) Die(opened.status().ToString());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  if (!load) return engine;
  auto start = Clock::now();
  std::vector<Document> batch;
  for (int64_t i = 0; i < g_docs; ++i) {
    batch.push_back(RowBson(Row(i)));
    if (batch.size() == 1000 || i + 1 == g_docs) {
      auto r = Docs(engine.get()).InsertMany(batch);
      if (!r.ok() || !r->write_errors.empty()) Die("docket load failed");
      batch.clear();
    }
  }
  // k holds a distinct value per document and is indexed as unique (in
  // every system); v is a plain index.
  if (!Docs(engine.get()).CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok()) Die("docket index k");
  if (!Docs(engine.get()).CreateIndex(J(R"({"v": 1})")).ok()) Die("docket index v");
  // Settled, as SQLite's B-tree is after its load and PostgreSQL's table
  // after VACUUM ANALYZE: no compaction left running under the measurements.
  if (!engine->Compact().ok()) Die("docket compact");
  fmt::print(stderr, "docket: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
  return engine;
}

void WarmDocket(Engine* engine) {
  Collection docs = Docs(engine);
  for (const char* filter : {"{}", R"({"k": {"$gte": 0}})", R"({"v": {"$gte": 0}})"}) {
    auto n = docs.CountDocuments(J(filter));
    if (!n.ok() || *n != g_docs) Die("docket warm-up");
  }
  // The row cache fills only from point reads: every document once by k
  // (its unique index entry and its record).
  for (int64_t i = 0; i < g_docs; ++i) {
    if (DrainDocket(docs.Find(Eq("k", i))) != 1) Die("docket warm-up by k");
  }
  // And the short ranges of the plain index on v (an equality's entries)
  // are cached as they are read: every value of v once. v is drawn from
  // [0, 1,000,000), so values no document holds are read (and cached) too.
  size_t by_v = 0;
  for (int64_t v = 0; v < 1000000; ++v) by_v += DrainDocket(docs.Find(Eq("v", v)));
  if (by_v != static_cast<size_t>(g_docs)) Die("docket warm-up by v");
  Engine::CacheUsage usage = engine->cache_usage();
  fmt::print(stderr, "docket: caches hold {} MiB of blocks and {} MiB of rows\n", usage.blocks >> 20, usage.rows >> 20);
}

size_t DrainDocket(Result<Cursor> cursor) {
  if (!cursor.ok()) Die(cursor.status().ToString());
  size_t n = 0;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch(1000);
    if (!batch.ok()) Die(batch.status().ToString());
    n += batch->size();
  }
  return n;
}

}  // namespace docket::bench
