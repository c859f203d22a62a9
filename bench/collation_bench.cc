// collation_bench: case-insensitive equality and locale-aware sorting over
// the same documents in Docket's embedded engine (MongoDB collations on
// ICU), SQLite 3 (a column declared COLLATE NOCASE: ASCII case folding) and
// PostgreSQL 15 (a nondeterministic ICU collation, und-u-ks-level2, and the
// "en-x-icu" collation; over loopback through libpq), in one run.
// bench/run_collation_bench.sh starts PostgreSQL and runs this.
//
//   collation_bench <postgres-conninfo> <scratch-dir> [seconds-per-case] [documents]
//
// Prints a Markdown table: each system's rate and Docket's ratio to the
// fastest other. The row counts of the three are checked to agree.
#include <bson/bson.h>
#include <fmt/core.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "bench/query_data.h"
#include "bench/sql_clients.h"
#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using docket::bench::Pg;
using docket::bench::PgPrepare;
using docket::bench::PgRows;
using docket::bench::SqlCheck;
double g_seconds = 2.0;
int64_t g_docs = 200000;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "collation_bench: {}\n", what);
  std::exit(1);
}

double Measure(const std::function<void(int64_t)>& op) { return docket::bench::WarmOpsPerSecond(g_seconds, op); }

// The data: names of 2-4 syllables in mixed case (about 40,000 distinct
// case-insensitively, several spellings each), ASCII only so that SQLite's
// NOCASE agrees with the others; a group g of 20 values; 100 bytes of padding.
const char* const kSyllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "da", "fe", "gu",
                                  "ho", "ji", "be", "po", "qu", "wy", "xa", "co"};
// SplitMix64: a cheap generator seeded per call (mt19937_64's seeding
// would cost more than the queries being measured).
struct SplitMix {
  uint64_t state;
  uint64_t operator()() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

std::string NameOf(int64_t i, bool vary_case) {
  SplitMix rng{static_cast<uint64_t>(i) * 7919 + 17};
  const int64_t stem = static_cast<int64_t>(rng() % 40000);
  SplitMix srng{static_cast<uint64_t>(stem) + 1};
  std::string s;
  const int syllables = 2 + static_cast<int>(srng() % 3);
  for (int k = 0; k < syllables; ++k) s += kSyllables[srng() % 20];
  if (vary_case) {
    for (char& c : s) {
      if (rng() % 3 == 0) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return s;
}
int64_t GroupOf(int64_t i) { return i % 20; }
const std::string kPad(100, 'p');

// The n-th probe: an existing name, in a case of its own.
std::string ProbeAt(int64_t n) {
  SplitMix rng{static_cast<uint64_t>(n + 1000000007)};
  const int64_t row = static_cast<int64_t>(rng() % static_cast<uint64_t>(g_docs));
  std::string s = NameOf(row, false);
  for (char& c : s) {
    if (rng() % 2 == 0) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

docket::Document Json(const std::string& json) {
  auto d = docket::Document::FromJson(json);
  if (!d.ok()) Die(d.status().ToString());
  return *d;
}

// ---- Docket ----

std::unique_ptr<docket::Engine> LoadDocket(const std::string& path) {
  auto engine = docket::bench::OpenFreshDocket(path, 512ull << 20);
  docket::Collection c = engine->collection("bench", "people");
  auto start = Clock::now();
  std::vector<docket::Document> batch;
  for (int64_t i = 0; i < g_docs; ++i) {
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_INT64(&b, "_id", i);
    const std::string name = NameOf(i, true);
    BSON_APPEND_UTF8(&b, "name", name.c_str());
    BSON_APPEND_INT64(&b, "g", GroupOf(i));
    BSON_APPEND_UTF8(&b, "pad", kPad.c_str());
    batch.push_back(*docket::Document::FromBson(&b));
    bson_destroy(&b);
    if (batch.size() == 1000 || i + 1 == g_docs) {
      auto r = c.InsertMany(batch);
      if (!r.ok() || !r->write_errors.empty()) Die("docket insert");
      batch.clear();
    }
  }
  auto indexed = c.CreateIndexes({Json(R"({"key": {"name": 1}, "name": "name_ci",
                                           "collation": {"locale": "en", "strength": 2}})"),
                                  Json(R"({"key": {"g": 1}})")});
  if (!indexed.ok()) Die(indexed.status().ToString());
  if (auto s = engine->Compact(); !s.ok()) Die(s.ToString());
  fmt::print(stderr, "docket: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
  return engine;
}

// ---- SQLite ----

sqlite3* LoadSqlite(const std::string& path) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  SqlCheck(sqlite3_open(path.c_str(), &db), db, "open");
  SqlCheck(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-524288;"
                            "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, g INTEGER, pad TEXT)",
                        nullptr, nullptr, nullptr),
           db, "create");
  auto start = Clock::now();
  sqlite3_stmt* insert;
  sqlite3_prepare_v2(db, "INSERT INTO people VALUES(?, ?, ?, ?)", -1, &insert, nullptr);
  SqlCheck(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  for (int64_t i = 0; i < g_docs; ++i) {
    const std::string name = NameOf(i, true);
    sqlite3_bind_int64(insert, 1, i);
    sqlite3_bind_text(insert, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 3, GroupOf(i));
    sqlite3_bind_text(insert, 4, kPad.data(), static_cast<int>(kPad.size()), SQLITE_STATIC);
    SqlCheck(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
  }
  SqlCheck(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_finalize(insert);
  SqlCheck(sqlite3_exec(db, "CREATE INDEX people_name ON people(name); CREATE INDEX people_g ON people(g); ANALYZE",
                        nullptr, nullptr, nullptr),
           db, "index");
  fmt::print(stderr, "sqlite: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
  return db;
}

size_t SqliteRows(sqlite3* db, sqlite3_stmt* stmt) {
  size_t n = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int col = 0; col < 4; ++col) (void)sqlite3_column_text(stmt, col);  // the whole row comes out
    ++n;
  }
  SqlCheck(rc, db, "step");
  sqlite3_reset(stmt);
  return n;
}

// ---- PostgreSQL ----

void LoadPostgres(PGconn* pg) {
  auto start = Clock::now();
  PQclear(Pg(pg, "DROP TABLE IF EXISTS people; DROP COLLATION IF EXISTS ci;"
                 "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);"
                 "CREATE UNLOGGED TABLE people(id bigint PRIMARY KEY, name text COLLATE ci, g bigint, pad text)"));
  docket::bench::PgCopyRows(pg, "COPY people FROM STDIN", g_docs, [](int64_t i) {
    return fmt::format("{}\t{}\t{}\t{}\n", i, NameOf(i, true), GroupOf(i), kPad);
  });
  PQclear(Pg(pg, "CREATE INDEX people_name ON people(name); CREATE INDEX people_g ON people(g)"));
  PQclear(Pg(pg, "VACUUM ANALYZE people"));
  fmt::print(stderr, "postgres: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
}

struct Case {
  std::string name;
  std::function<size_t(int64_t)> docket, sqlite, postgres;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: collation_bench <postgres-conninfo> <scratch-dir> [seconds] [documents]");
  const std::string conninfo = argv[1], scratch = argv[2];
  if (argc > 3) g_seconds = std::atof(argv[3]);
  if (argc > 4) g_docs = std::atoll(argv[4]);

  auto engine = LoadDocket(scratch + "/docket");
  docket::Collection people = engine->collection("bench", "people");
  sqlite3* lite = LoadSqlite(scratch + "/sqlite.db");
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
  LoadPostgres(pg);

  const docket::Document ci = Json(R"({"locale": "en", "strength": 2})");
  const docket::Document en = Json(R"({"locale": "en"})");
  sqlite3_stmt *lite_eq, *lite_top, *lite_group_sorted;
  sqlite3_prepare_v2(lite, "SELECT id, name, g, pad FROM people WHERE name = ?", -1, &lite_eq, nullptr);
  sqlite3_prepare_v2(lite, "SELECT id, name, g, pad FROM people WHERE name >= ? ORDER BY name LIMIT 100", -1, &lite_top,
                     nullptr);
  sqlite3_prepare_v2(lite, "SELECT id, name, g, pad FROM people WHERE g = ? ORDER BY name, id LIMIT 1000", -1,
                     &lite_group_sorted, nullptr);
  PgPrepare(pg, "eq", "SELECT id, name, g, pad FROM people WHERE name = $1", 1);
  PgPrepare(pg, "top", "SELECT id, name, g, pad FROM people WHERE name >= $1 ORDER BY name LIMIT 100", 1);
  PgPrepare(pg, "group_sorted",
            "SELECT id, name, g, pad FROM people WHERE g = $1::bigint ORDER BY name COLLATE \"en-x-icu\", id LIMIT 1000",
            1);

  std::vector<Case> cases;
  cases.push_back({"case-insensitive equality (indexed)",
                   [&](int64_t n) {
                     docket::FindOptions o;
                     o.collation = ci;
                     bson_t f = BSON_INITIALIZER;
                     BSON_APPEND_UTF8(&f, "name", ProbeAt(n).c_str());
                     auto filter = *docket::Document::FromBson(&f);
                     bson_destroy(&f);
                     return docket::bench::DrainDocket(people.Find(filter, o));
                   },
                   [&](int64_t n) {
                     const std::string p = ProbeAt(n);
                     sqlite3_bind_text(lite_eq, 1, p.data(), static_cast<int>(p.size()), SQLITE_TRANSIENT);
                     return SqliteRows(lite, lite_eq);
                   },
                   [&](int64_t n) { return PgRows(pg, "eq", {ProbeAt(n)}); }});
  cases.push_back({"case-insensitive range, first 100 in order (indexed)",
                   [&](int64_t n) {
                     docket::FindOptions o;
                     o.collation = ci;
                     o.sort = Json(R"({"name": 1})");
                     o.limit = 100;
                     bson_t f = BSON_INITIALIZER, range;
                     BSON_APPEND_DOCUMENT_BEGIN(&f, "name", &range);
                     BSON_APPEND_UTF8(&range, "$gte", ProbeAt(n).c_str());
                     bson_append_document_end(&f, &range);
                     auto filter = *docket::Document::FromBson(&f);
                     bson_destroy(&f);
                     return docket::bench::DrainDocket(people.Find(filter, o));
                   },
                   [&](int64_t n) {
                     const std::string p = ProbeAt(n);
                     sqlite3_bind_text(lite_top, 1, p.data(), static_cast<int>(p.size()), SQLITE_TRANSIENT);
                     return SqliteRows(lite, lite_top);
                   },
                   [&](int64_t n) { return PgRows(pg, "top", {ProbeAt(n)}); }});
  cases.push_back({"English sort of one group (10,000 rows), first 1,000 (sorted in memory)",
                   [&](int64_t n) {
                     docket::FindOptions o;
                     o.collation = en;
                     o.sort = Json(R"({"name": 1, "_id": 1})");
                     o.limit = 1000;
                     bson_t f = BSON_INITIALIZER;
                     BSON_APPEND_INT64(&f, "g", GroupOf(n < 0 ? -n : n));
                     auto filter = *docket::Document::FromBson(&f);
                     bson_destroy(&f);
                     return docket::bench::DrainDocket(people.Find(filter, o));
                   },
                   [&](int64_t n) {
                     sqlite3_bind_int64(lite_group_sorted, 1, GroupOf(n < 0 ? -n : n));
                     return SqliteRows(lite, lite_group_sorted);
                   },
                   [&](int64_t n) { return PgRows(pg, "group_sorted", {std::to_string(GroupOf(n < 0 ? -n : n))}); }});

  fmt::print("| case | Docket ops/s | SQLite ops/s | PostgreSQL ops/s | Docket / fastest other |\n");
  fmt::print("|---|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    // The three agree on how many rows each probe gives (SQLite's NOCASE
    // folds ASCII only; the data is ASCII).
    for (int64_t probe = 0; probe < 50; ++probe) {
      const size_t d = c.docket(probe), s = c.sqlite(probe), p = c.postgres(probe);
      if (d != s || d != p) Die(fmt::format("{}: probe {} gives {} / {} / {} rows", c.name, probe, d, s, p));
    }
    const double d = Measure([&](int64_t n) { c.docket(n); });
    const double s = Measure([&](int64_t n) { c.sqlite(n); });
    const double p = Measure([&](int64_t n) { c.postgres(n); });
    fmt::print("| {} | {:.0f} | {:.0f} | {:.0f} | {:.2f} |\n", c.name, d, s, p, d / std::max(s, p));
  }
  sqlite3_finalize(lite_eq);
  sqlite3_finalize(lite_top);
  sqlite3_finalize(lite_group_sorted);
  sqlite3_close(lite);
  PQfinish(pg);
  return 0;
}
