// The query benchmark's data and filters, shared by bench/query_bench.cc (the
// side-by-side run) and bench/query_profile.cc (one Docket case, for perf):
// both ask the same queries of the same documents.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/engine.h"

namespace docket::bench {

// How many documents the run holds; Row and KeyAt depend on it.
inline int64_t g_docs = 1000000;

struct Values {
  int64_t id, k, g, v, u;
  std::string cat;
};

// Document i. k: a scattered unique key; v: a random indexed value (about one
// document per value); u: a random unindexed one; g: 1,000 groups; pad: 200
// bytes, so a document is ~300 bytes.
Values Row(int64_t i);
std::string RowJson(const Values& r);
Document RowBson(const Values& r);

// The query parameters, drawn from one sequence so each system asks the same.
// (Warm-up passes negative n: the same kind of values, other ones.)
int64_t KeyAt(int64_t n);
int64_t RangeStartAt(int64_t n);
// The 100 values of the n-th $in.
std::vector<int64_t> InValuesAt(int64_t n);

// Filters built as BSON, as a driver hands them over: no JSON in timed loops.
Document J(const std::string& json);
Document Eq(const char* field, int64_t v);
Document Range(const char* field, int64_t from, int64_t to);
Document In(const char* field, const std::vector<int64_t>& values);

// Opens Docket at `path` with the benchmark's caches (1 GiB of blocks, 1 GiB
// of rows). With `load`, first removes whatever is there, inserts g_docs
// documents, indexes k (unique) and v, and compacts, so that no compaction
// runs under the measurements. Exits the process on any error.
std::unique_ptr<Engine> OpenDocket(const std::string& path, bool load);

// A new on-disk Docket at `path` (whatever was there is removed) with a
// block cache of `cache_bytes`, for the side-by-side benchmarks that load
// their own data (collation, text, geo). Exits the process on any error.
std::unique_ptr<Engine> OpenFreshDocket(const std::string& path, size_t cache_bytes);

// Reads every document once through each index, once by k and every value
// of v once (the row cache fills only from point reads, and the cache of
// short index ranges from reading them), as the side-by-side run does before
// it measures. Exits the process on any error.
void WarmDocket(Engine* engine);

// Drains a cursor in batches of 1,000; returns how many documents came out.
size_t DrainDocket(Result<Cursor> cursor);

[[noreturn]] void Die(const std::string& what);

}  // namespace docket::bench
