// query_bench: the same queries over the same 1,000,000 documents in
// Docket's embedded engine, SQLite 3 (JSON1 over a TEXT column, with an
// expression index where the query has one) and PostgreSQL 15 (JSONB, with
// expression B-tree indexes; over loopback through libpq), in one run.
// bench/run_query_bench.sh starts PostgreSQL and runs this.
//
//   query_bench <postgres-conninfo | -> [seconds-per-case] [documents]
//
// Prints each system's rate, the ratios, and the plans each system chose.
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

#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
double g_seconds = 2.0;
int64_t g_docs = 1000000;

// Runs op() repeatedly for g_seconds (after as long again of warm-up, so that
// every system answers from its caches); returns operations per second.
double Measure(const std::function<void(int64_t)>& op) {
  auto warm = Clock::now();
  for (int64_t i = 0; std::chrono::duration<double>(Clock::now() - warm).count() < g_seconds; ++i) op(-1 - i);
  auto start = Clock::now();
  int64_t n = 0;
  double elapsed = 0;
  do {
    op(n++);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < g_seconds);
  return static_cast<double>(n) / elapsed;
}

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "query_bench: {}\n", what);
  std::exit(1);
}

// ---- the data: the same values for every system ----

struct Values {
  int64_t id, k, g, v, u;
  std::string cat;
};

const std::string kPad(200, 'x');
const char* const kCategories[] = {"books", "music", "garden", "toys", "tools", "food", "games", "shoes"};

Values Row(int64_t i) {
  // k: a scattered unique key; v: a random indexed value; u: a random
  // unindexed one; g: 1,000 groups.
  uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
  return Values{i, static_cast<int64_t>((static_cast<uint64_t>(i) * 7919) % static_cast<uint64_t>(g_docs)),
                i % 1000, static_cast<int64_t>((h >> 20) % 1000000), static_cast<int64_t>((h >> 40) % 100000),
                kCategories[(h >> 8) % 8]};
}

std::string RowJson(const Values& r) {
  return fmt::format(R"({{"_id":{},"k":{},"g":{},"v":{},"u":{},"cat":"{}","pad":"{}"}})", r.id, r.k, r.g, r.v, r.u,
                     r.cat, kPad);
}

docket::Document RowBson(const Values& r) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, "_id", r.id);
  BSON_APPEND_INT64(&doc, "k", r.k);
  BSON_APPEND_INT64(&doc, "g", r.g);
  BSON_APPEND_INT64(&doc, "v", r.v);
  BSON_APPEND_INT64(&doc, "u", r.u);
  BSON_APPEND_UTF8(&doc, "cat", r.cat.c_str());
  BSON_APPEND_UTF8(&doc, "pad", kPad.c_str());
  docket::Document d = *docket::Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

// The query parameters, drawn from one sequence so each system asks the same.
// (Warm-up passes negative n: the same kind of values, other ones.)
int64_t KeyAt(int64_t n) { return ((n < 0 ? -n * 31 : n) * 104729) % g_docs; }
int64_t RangeStartAt(int64_t n) { return ((n < 0 ? -n * 31 : n) * 7351) % 990000; }

// ---- Docket ----

struct DocketSide {
  std::unique_ptr<docket::Engine> engine;
  docket::Collection c() { return engine->collection("bench", "docs"); }
};

docket::Document J(const std::string& s) { return *docket::Document::FromJson(s); }

// Filters built as BSON, as a driver hands them over: no JSON in the timed loops.
docket::Document Eq(const char* field, int64_t v) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, field, v);
  docket::Document d = *docket::Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

docket::Document Range(const char* field, int64_t from, int64_t to) {
  bson_t doc = BSON_INITIALIZER, cond;
  BSON_APPEND_DOCUMENT_BEGIN(&doc, field, &cond);
  BSON_APPEND_INT64(&cond, "$gte", from);
  BSON_APPEND_INT64(&cond, "$lt", to);
  bson_append_document_end(&doc, &cond);
  docket::Document d = *docket::Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

docket::Document In(const char* field, const std::vector<int64_t>& values) {
  bson_t doc = BSON_INITIALIZER, cond, list;
  BSON_APPEND_DOCUMENT_BEGIN(&doc, field, &cond);
  BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &list);
  for (size_t i = 0; i < values.size(); ++i) BSON_APPEND_INT64(&list, std::to_string(i).c_str(), values[i]);
  bson_append_array_end(&cond, &list);
  bson_append_document_end(&doc, &cond);
  docket::Document d = *docket::Document::FromBson(&doc);
  bson_destroy(&doc);
  return d;
}

void LoadDocket(DocketSide* d, const std::string& path) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  docket::EngineOptions options;
  options.path = path;
  // A block cache as big as SQLite's cache_size and PostgreSQL's
  // shared_buffers here, and a row cache for point reads as big again (the
  // run prints how much of each the data fills).
  options.cache_size_bytes = size_t{1} << 30;
  options.row_cache_bytes = size_t{1} << 30;
  auto engine = docket::Engine::Open(options);
  if (!engine.ok()) Die(engine.status().ToString());
  d->engine = std::move(engine).value();
  auto start = Clock::now();
  std::vector<docket::Document> batch;
  for (int64_t i = 0; i < g_docs; ++i) {
    batch.push_back(RowBson(Row(i)));
    if (batch.size() == 1000 || i + 1 == g_docs) {
      auto r = d->c().InsertMany(batch);
      if (!r.ok() || !r->write_errors.empty()) Die("docket load failed");
      batch.clear();
    }
  }
  // k holds a distinct value per document and is indexed as unique (in
  // every system); v is a plain index.
  if (!d->c().CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok()) Die("docket index k");
  if (!d->c().CreateIndex(J(R"({"v": 1})")).ok()) Die("docket index v");
  // Settled, as SQLite's B-tree is after its load and PostgreSQL's table
  // after VACUUM ANALYZE: no compaction left running under the measurements.
  if (!d->engine->Compact().ok()) Die("docket compact");
  fmt::print(stderr, "docket: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
}

size_t DrainDocket(docket::Result<docket::Cursor> cursor) {
  if (!cursor.ok()) Die(cursor.status().ToString());
  size_t n = 0;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch(1000);
    if (!batch.ok()) Die(batch.status().ToString());
    n += batch->size();
  }
  return n;
}

// ---- SQLite ----

void SqlCheck(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) Die(fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db)));
}

sqlite3* LoadSqlite(const std::string& path) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  sqlite3* db = nullptr;
  SqlCheck(sqlite3_open(path.c_str(), &db), db, "open");
  SqlCheck(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-1048576;"
                            "CREATE TABLE docs(id INTEGER PRIMARY KEY, d TEXT)",
                        nullptr, nullptr, nullptr),
           db, "create");
  auto start = Clock::now();
  sqlite3_stmt* insert;
  sqlite3_prepare_v2(db, "INSERT INTO docs VALUES(?, ?)", -1, &insert, nullptr);
  SqlCheck(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  for (int64_t i = 0; i < g_docs; ++i) {
    std::string json = RowJson(Row(i));
    sqlite3_bind_int64(insert, 1, i);
    sqlite3_bind_text(insert, 2, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
    SqlCheck(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
  }
  SqlCheck(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_finalize(insert);
  SqlCheck(sqlite3_exec(db, "CREATE UNIQUE INDEX docs_k ON docs(json_extract(d, '$.k'));"
                            "CREATE INDEX docs_v ON docs(json_extract(d, '$.v')); ANALYZE",
                        nullptr, nullptr, nullptr),
           db, "index");
  fmt::print(stderr, "sqlite: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
  return db;
}

size_t SqliteRows(sqlite3* db, sqlite3_stmt* stmt) {
  size_t n = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    (void)sqlite3_column_text(stmt, 0);  // the document comes out, as the others return it
    ++n;
  }
  SqlCheck(rc, db, "step");
  sqlite3_reset(stmt);
  return n;
}

std::string SqlitePlan(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr);
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    if (!out.empty()) out += "; ";
    out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
  }
  sqlite3_finalize(stmt);
  return out;
}

// ---- PostgreSQL ----

PGresult* Pg(PGconn* pg, const std::string& sql) {
  PGresult* r = PQexec(pg, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    Die("postgres: " + std::string(PQerrorMessage(pg)) + " in " + sql);
  }
  return r;
}

void LoadPostgres(PGconn* pg) {
  auto start = Clock::now();
  PQclear(Pg(pg, "DROP TABLE IF EXISTS docs; CREATE UNLOGGED TABLE docs(id bigint PRIMARY KEY, d jsonb)"));
  PGresult* copy = PQexec(pg, "COPY docs FROM STDIN");
  if (PQresultStatus(copy) != PGRES_COPY_IN) Die(std::string("copy: ") + PQerrorMessage(pg));
  PQclear(copy);
  std::string chunk;
  for (int64_t i = 0; i < g_docs; ++i) {
    chunk += std::to_string(i);
    chunk += '\t';
    chunk += RowJson(Row(i));
    chunk += '\n';
    if (chunk.size() > (1 << 20) || i + 1 == g_docs) {
      if (PQputCopyData(pg, chunk.data(), static_cast<int>(chunk.size())) != 1) Die("copy");
      chunk.clear();
    }
  }
  if (PQputCopyEnd(pg, nullptr) != 1) Die("copy end");
  PGresult* r = PQgetResult(pg);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(std::string("copy: ") + PQerrorMessage(pg));
  PQclear(r);
  PQclear(Pg(pg, "CREATE UNIQUE INDEX docs_k ON docs (((d->>'k')::bigint)); CREATE INDEX docs_v ON docs (((d->>'v')::bigint))"));
  PQclear(Pg(pg, "VACUUM ANALYZE docs"));
  fmt::print(stderr, "postgres: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
}

size_t PgRows(PGconn* pg, const char* statement, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecPrepared(pg, statement, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
  size_t n = static_cast<size_t>(PQntuples(r));
  PQclear(r);
  return n;
}

std::string PgPlan(PGconn* pg, const std::string& sql) {
  PGresult* r = Pg(pg, "EXPLAIN " + sql);
  std::string out;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::string line = PQgetvalue(r, i, 0);
    if (line.find("->") == std::string::npos && i > 0) continue;
    if (!out.empty()) out += " / ";
    out += line.substr(line.find_first_not_of(" ->"));
  }
  PQclear(r);
  return out;
}

// ---- the cases ----

struct Case {
  std::string name;
  std::string docket_plan, sqlite_plan, pg_plan;
  double docket = 0, sqlite = 0, pg = 0;
  size_t docket_rows = 0, sqlite_rows = 0, pg_rows = 0;  // of the first run, to check they agree
  bool indexed = true;
};

std::string DocketPlan(docket::Collection c, const docket::Document& filter, const docket::Document& sort = {}) {
  docket::FindOptions options;
  options.sort = sort;
  auto e = c.Explain(filter, options);
  if (!e.ok()) return e.status().ToString();
  std::string s = e->ToJson();
  size_t at = s.find("\"winningPlan\"");
  size_t end = s.find("\"rejectedPlans\"");
  return at == std::string::npos ? s : s.substr(at, end - at);
}

// Equality on an indexed field (k: unique, v: not).
Case EqualityCase(docket::Collection docs, sqlite3* lite, PGconn* pg, const std::string& field) {
  const bool unique = field == "k";
  Case c{fmt::format("equality on {} indexed field ({} = ?)", unique ? "a unique" : "a non-unique", field)};
  const std::string sql = fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') = ?", field);
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(lite, sql.c_str(), -1, &stmt, nullptr);
  c.docket_plan = DocketPlan(docs, J(fmt::format(R"({{"{}": 5}})", field)));
  c.sqlite_plan = SqlitePlan(lite, fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') = 5", field));
  c.docket = Measure([&](int64_t n) {
    size_t rows = DrainDocket(docs.Find(Eq(field.c_str(), KeyAt(n))));
    if (n == 0) c.docket_rows = rows;
  });
  c.sqlite = Measure([&](int64_t n) {
    sqlite3_bind_int64(stmt, 1, KeyAt(n));
    size_t rows = SqliteRows(lite, stmt);
    if (n == 0) c.sqlite_rows = rows;
  });
  sqlite3_finalize(stmt);
  if (pg != nullptr) {
    const std::string name = "eq_" + field;
    PQclear(PQprepare(pg, name.c_str(), fmt::format("SELECT d FROM docs WHERE (d->>'{}')::bigint = $1", field).c_str(), 1,
                      nullptr));
    c.pg_plan = PgPlan(pg, fmt::format("SELECT d FROM docs WHERE (d->>'{}')::bigint = 5", field));
    c.pg = Measure([&](int64_t n) {
      size_t rows = PgRows(pg, name.c_str(), {std::to_string(KeyAt(n))});
      if (n == 0) c.pg_rows = rows;
    });
  }
  return c;
}

// $in of 100 values on an indexed field (k: unique, v: not).
Case InCase(docket::Collection docs, sqlite3* lite, PGconn* pg, const std::string& field) {
  const bool unique = field == "k";
  Case c{fmt::format("$in of 100 values on {} indexed field ({})", unique ? "a unique" : "a non-unique", field)};
  auto values = [](int64_t n) {
    std::vector<int64_t> out;
    for (int i = 0; i < 100; ++i) out.push_back(KeyAt(n * 100 + i));
    return out;
  };
  auto joined = [](const std::vector<int64_t>& v, const char* sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
    return s;
  };
  c.docket_plan = DocketPlan(docs, J(fmt::format(R"({{"{}": {{"$in": [1, 2, 3]}}}})", field)));
  c.sqlite_plan = SqlitePlan(lite, fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') IN (1, 2, 3)", field));
  c.docket = Measure([&](int64_t n) {
    size_t rows = DrainDocket(docs.Find(In(field.c_str(), values(n))));
    if (n == 0) c.docket_rows = rows;
  });
  std::string sql = fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') IN (?", field);
  for (int i = 1; i < 100; ++i) sql += ", ?";
  sql += ")";
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(lite, sql.c_str(), -1, &stmt, nullptr);
  c.sqlite = Measure([&](int64_t n) {
    std::vector<int64_t> v = values(n);
    for (int i = 0; i < 100; ++i) sqlite3_bind_int64(stmt, i + 1, v[i]);
    size_t rows = SqliteRows(lite, stmt);
    if (n == 0) c.sqlite_rows = rows;
  });
  sqlite3_finalize(stmt);
  if (pg != nullptr) {
    const std::string name = "in_" + field;
    PQclear(PQprepare(pg, name.c_str(),
                      fmt::format("SELECT d FROM docs WHERE (d->>'{}')::bigint = ANY($1::bigint[])", field).c_str(), 1,
                      nullptr));
    c.pg_plan = PgPlan(pg, fmt::format("SELECT d FROM docs WHERE (d->>'{}')::bigint = ANY('{{1,2,3}}'::bigint[])", field));
    c.pg = Measure([&](int64_t n) {
      size_t rows = PgRows(pg, name.c_str(), {"{" + joined(values(n), ",") + "}"});
      if (n == 0) c.pg_rows = rows;
    });
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: query_bench <postgres-conninfo | -> [seconds] [documents]");
  std::string conninfo = argv[1];
  if (argc > 2) g_seconds = std::atof(argv[2]);
  if (argc > 3) g_docs = std::atoll(argv[3]);
  const std::string scratch = (std::filesystem::temp_directory_path() / "docket-query-bench").string();
  std::filesystem::create_directories(scratch);

  DocketSide d;
  LoadDocket(&d, scratch + "/docket");
  sqlite3* lite = LoadSqlite(scratch + "/sqlite.db");
  PGconn* pg = nullptr;
  if (conninfo != "-") {
    pg = PQconnectdb(conninfo.c_str());
    if (PQstatus(pg) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
    LoadPostgres(pg);
  }
  docket::Collection docs = d.c();
  // Every system starts warm: its table and both indexes read once through
  // (SQLite's and PostgreSQL's pages are in their caches from the load;
  // Docket's compaction left its block cache empty).
  {
    auto start = Clock::now();
    for (const char* filter : {"{}", R"({"k": {"$gte": 0}})", R"({"v": {"$gte": 0}})"}) {
      auto n = docs.CountDocuments(J(filter));
      if (!n.ok() || *n != g_docs) Die("docket warm-up");
    }
    // The row cache fills only from point reads: every document once by k
    // (its unique index entry and its record).
    for (int64_t i = 0; i < g_docs; ++i) {
      if (DrainDocket(docs.Find(Eq("k", i))) != 1) Die("docket warm-up by k");
    }
    docket::Engine::CacheUsage usage = d.engine->cache_usage();
    fmt::print(stderr, "docket: caches hold {} MiB of blocks and {} MiB of rows\n", usage.blocks >> 20, usage.rows >> 20);
    SqlCheck(sqlite3_exec(lite, "SELECT sum(length(d)) FROM docs", nullptr, nullptr, nullptr), lite, "warm");
    if (pg != nullptr) PQclear(Pg(pg, "SELECT sum(length(d::text)) FROM docs"));
    fmt::print(stderr, "warm-up: {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::vector<Case> cases;

  // 1. Equality on an indexed field: the unique k, then the plain v.
  for (const char* field : {"k", "v"}) cases.push_back(EqualityCase(docs, lite, pg, field));
  // 2. A range with sort and limit 10.
  {
    Case c{"range with sort and limit 10 (v in [x, x+10000) by v)"};
    const std::string sql =
        "SELECT d FROM docs WHERE json_extract(d, '$.v') >= ?1 AND json_extract(d, '$.v') < ?2 "
        "ORDER BY json_extract(d, '$.v') LIMIT 10";
    sqlite3_stmt* stmt;
    sqlite3_prepare_v2(lite, sql.c_str(), -1, &stmt, nullptr);
    docket::FindOptions options;
    options.sort = J(R"({"v": 1})");
    options.limit = 10;
    c.docket_plan = DocketPlan(docs, J(R"({"v": {"$gte": 5, "$lt": 10005}})"), options.sort);
    c.sqlite_plan = SqlitePlan(lite, "SELECT d FROM docs WHERE json_extract(d, '$.v') >= 5 AND json_extract(d, '$.v') < 10005 "
                                     "ORDER BY json_extract(d, '$.v') LIMIT 10");
    c.docket = Measure([&](int64_t n) {
      int64_t x = RangeStartAt(n);
      size_t rows = DrainDocket(docs.Find(Range("v", x, x + 10000), options));
      if (n == 0) c.docket_rows = rows;
    });
    c.sqlite = Measure([&](int64_t n) {
      int64_t x = RangeStartAt(n);
      sqlite3_bind_int64(stmt, 1, x);
      sqlite3_bind_int64(stmt, 2, x + 10000);
      size_t rows = SqliteRows(lite, stmt);
      if (n == 0) c.sqlite_rows = rows;
    });
    sqlite3_finalize(stmt);
    if (pg != nullptr) {
      PQclear(PQprepare(pg, "range",
                        "SELECT d FROM docs WHERE (d->>'v')::bigint >= $1 AND (d->>'v')::bigint < $2 "
                        "ORDER BY (d->>'v')::bigint LIMIT 10",
                        2, nullptr));
      c.pg_plan = PgPlan(pg, "SELECT d FROM docs WHERE (d->>'v')::bigint >= 5 AND (d->>'v')::bigint < 10005 "
                             "ORDER BY (d->>'v')::bigint LIMIT 10");
      c.pg = Measure([&](int64_t n) {
        int64_t x = RangeStartAt(n);
        size_t rows = PgRows(pg, "range", {std::to_string(x), std::to_string(x + 10000)});
        if (n == 0) c.pg_rows = rows;
      });
    }
    cases.push_back(c);
  }
  // 3. $in of 100 values, on each index.
  for (const char* field : {"k", "v"}) cases.push_back(InCase(docs, lite, pg, field));
  // 4. A collection scan with a filter on an unindexed field (~1% match).
  {
    Case c{"collection scan, filter on an unindexed field (u < 1000, ~1%)"};
    c.indexed = false;
    c.docket_plan = DocketPlan(docs, J(R"({"u": {"$lt": 1000}})"));
    c.sqlite_plan = SqlitePlan(lite, "SELECT d FROM docs WHERE json_extract(d, '$.u') < 1000");
    const docket::Document scan_filter = J(R"({"u": {"$lt": 1000}})");
    c.docket = Measure([&](int64_t n) {
      size_t rows = DrainDocket(docs.Find(scan_filter));
      if (n == 0) c.docket_rows = rows;
    });
    sqlite3_stmt* stmt;
    sqlite3_prepare_v2(lite, "SELECT d FROM docs WHERE json_extract(d, '$.u') < 1000", -1, &stmt, nullptr);
    c.sqlite = Measure([&](int64_t n) {
      size_t rows = SqliteRows(lite, stmt);
      if (n == 0) c.sqlite_rows = rows;
    });
    sqlite3_finalize(stmt);
    if (pg != nullptr) {
      PQclear(PQprepare(pg, "scan", "SELECT d FROM docs WHERE (d->>'u')::bigint < 1000", 0, nullptr));
      c.pg_plan = PgPlan(pg, "SELECT d FROM docs WHERE (d->>'u')::bigint < 1000");
      c.pg = Measure([&](int64_t n) {
        size_t rows = PgRows(pg, "scan", {});
        if (n == 0) c.pg_rows = rows;
      });
    }
    cases.push_back(c);
  }
  // 5. $group by a field with 1,000 values, summing another.
  {
    Case c{"$group by g (1,000 values) summing v"};
    c.indexed = false;
    std::vector<docket::Document> pipeline = {J(R"({"$group": {"_id": "$g", "s": {"$sum": "$v"}}})")};
    c.docket_plan = "COLLSCAN > $group";
    c.sqlite_plan = SqlitePlan(lite, "SELECT json_extract(d, '$.g'), sum(json_extract(d, '$.v')) FROM docs GROUP BY 1");
    c.docket = Measure([&](int64_t n) {
      size_t rows = DrainDocket(docs.Aggregate(pipeline));
      if (n == 0) c.docket_rows = rows;
    });
    sqlite3_stmt* stmt;
    sqlite3_prepare_v2(lite, "SELECT json_extract(d, '$.g'), sum(json_extract(d, '$.v')) FROM docs GROUP BY 1", -1, &stmt,
                       nullptr);
    c.sqlite = Measure([&](int64_t n) {
      size_t rows = SqliteRows(lite, stmt);
      if (n == 0) c.sqlite_rows = rows;
    });
    sqlite3_finalize(stmt);
    if (pg != nullptr) {
      PQclear(PQprepare(pg, "group", "SELECT d->>'g', sum((d->>'v')::bigint) FROM docs GROUP BY 1", 0, nullptr));
      c.pg_plan = PgPlan(pg, "SELECT d->>'g', sum((d->>'v')::bigint) FROM docs GROUP BY 1");
      c.pg = Measure([&](int64_t n) {
        size_t rows = PgRows(pg, "group", {});
        if (n == 0) c.pg_rows = rows;
      });
    }
    cases.push_back(c);
  }

  fmt::print("| query | Docket ops/s | SQLite ops/s | PostgreSQL ops/s | Docket / faster | target | rows (D/S/P) |\n");
  fmt::print("|---|---:|---:|---:|---:|---|---|\n");
  for (const Case& c : cases) {
    double best = std::max(c.sqlite, c.pg);
    double ratio = best > 0 ? c.docket / best : 0;
    bool met = c.indexed ? ratio >= 1.0 : ratio >= 1 / 1.5;
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | **{:.2f}** | {} {} | {}/{}/{} |\n", c.name, c.docket, c.sqlite, c.pg,
               ratio, c.indexed ? "≥ 1" : "≥ 0.67", met ? "met" : "MISSED", c.docket_rows, c.sqlite_rows, c.pg_rows);
  }
  fmt::print("\nPlans:\n\n");
  for (const Case& c : cases) {
    fmt::print("* {}\n  * Docket: `{}`\n  * SQLite: `{}`\n  * PostgreSQL: `{}`\n", c.name, c.docket_plan, c.sqlite_plan,
               c.pg_plan);
  }
  if (pg != nullptr) {
    PQclear(Pg(pg, "DROP TABLE docs"));
    PQfinish(pg);
  }
  sqlite3_close(lite);
  d.engine.reset();
  std::filesystem::remove_all(scratch);
  return 0;
}
