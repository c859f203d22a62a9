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

#include "bench/query_data.h"
#include "bench/measure.h"
#include "bench/sql_clients.h"
#include "docket/engine.h"

namespace {

using namespace docket::bench;
using Clock = std::chrono::steady_clock;
double g_seconds = 2.0;

double Measure(const std::function<void(int64_t)>& op) { return docket::bench::WarmOpsPerSecond(g_seconds, op); }

// ---- Docket ----

struct DocketSide {
  std::unique_ptr<docket::Engine> engine;
  docket::Collection c() { return engine->collection("bench", "docs"); }
};

// ---- SQLite ----

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

void LoadPostgres(PGconn* pg) {
  auto start = Clock::now();
  PQclear(Pg(pg, "DROP TABLE IF EXISTS docs; CREATE UNLOGGED TABLE docs(id bigint PRIMARY KEY, d jsonb)"));
  PgCopyRows(pg, "COPY docs FROM STDIN", g_docs,
             [](int64_t i) { return std::to_string(i) + '\t' + RowJson(Row(i)) + '\n'; });
  PQclear(Pg(pg, "CREATE UNIQUE INDEX docs_k ON docs (((d->>'k')::bigint)); CREATE INDEX docs_v ON docs (((d->>'v')::bigint))"));
  PQclear(Pg(pg, "VACUUM ANALYZE docs"));
  fmt::print(stderr, "postgres: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
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
  auto joined = [](const std::vector<int64_t>& v, const char* sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
    return s;
  };
  c.docket_plan = DocketPlan(docs, J(fmt::format(R"({{"{}": {{"$in": [1, 2, 3]}}}})", field)));
  c.sqlite_plan = SqlitePlan(lite, fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') IN (1, 2, 3)", field));
  c.docket = Measure([&](int64_t n) {
    size_t rows = DrainDocket(docs.Find(In(field.c_str(), InValuesAt(n))));
    if (n == 0) c.docket_rows = rows;
  });
  std::string sql = fmt::format("SELECT d FROM docs WHERE json_extract(d, '$.{}') IN (?", field);
  for (int i = 1; i < 100; ++i) sql += ", ?";
  sql += ")";
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(lite, sql.c_str(), -1, &stmt, nullptr);
  c.sqlite = Measure([&](int64_t n) {
    std::vector<int64_t> v = InValuesAt(n);
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
      size_t rows = PgRows(pg, name.c_str(), {"{" + joined(InValuesAt(n), ",") + "}"});
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

  DocketSide d{OpenDocket(scratch + "/docket", /*load=*/true)};
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
    WarmDocket(d.engine.get());
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
