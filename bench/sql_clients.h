// What the side-by-side benchmarks share on the SQL side: checked SQLite and
// PostgreSQL calls that end the run with a message on any error (a benchmark
// that goes on after an error measures nothing).
#pragma once

#include <fmt/core.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace docket::bench {

[[noreturn]] inline void DieOfSql(const std::string& what) {
  fmt::print(stderr, "{}\n", what);
  std::exit(1);
}

// Ends the run unless `rc` is SQLite's OK, DONE or ROW.
inline void SqlCheck(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    DieOfSql(fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db)));
  }
}

// Runs `sql`; ends the run unless it succeeded. The caller PQclear()s the result.
inline PGresult* Pg(PGconn* pg, const std::string& sql) {
  PGresult* r = PQexec(pg, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    DieOfSql("postgres: " + std::string(PQerrorMessage(pg)) + " in " + sql);
  }
  return r;
}

// Loads `rows` rows with `copy_sql` (a COPY ... FROM STDIN), row i being
// row(i): tab-separated text ending with a newline, sent a megabyte at a
// time. Ends the run on an error.
inline void PgCopyRows(PGconn* pg, const std::string& copy_sql, int64_t rows,
                       const std::function<std::string(int64_t)>& row) {
  PGresult* copy = PQexec(pg, copy_sql.c_str());
  if (PQresultStatus(copy) != PGRES_COPY_IN) DieOfSql(std::string("copy: ") + PQerrorMessage(pg));
  PQclear(copy);
  std::string chunk;
  for (int64_t i = 0; i < rows; ++i) {
    chunk += row(i);
    if (chunk.size() > (1 << 20) || i + 1 == rows) {
      if (PQputCopyData(pg, chunk.data(), static_cast<int>(chunk.size())) != 1) DieOfSql("copy");
      chunk.clear();
    }
  }
  if (PQputCopyEnd(pg, nullptr) != 1) DieOfSql("copy end");
  PGresult* done = PQgetResult(pg);
  if (PQresultStatus(done) != PGRES_COMMAND_OK) DieOfSql(std::string("copy: ") + PQerrorMessage(pg));
  PQclear(done);
}

// Runs prepared `statement` with text `params`; the number of rows it
// returned. Ends the run on an error.
inline size_t PgRows(PGconn* pg, const char* statement, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecPrepared(pg, statement, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) DieOfSql(std::string("postgres: ") + PQerrorMessage(pg));
  const size_t n = static_cast<size_t>(PQntuples(r));
  PQclear(r);
  return n;
}

// Prepares `sql` as `name`; ends the run on an error.
inline void PgPrepare(PGconn* pg, const char* name, const char* sql, int params) {
  PGresult* r = PQprepare(pg, name, sql, params, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) DieOfSql(std::string("prepare: ") + PQerrorMessage(pg));
  PQclear(r);
}

// The side-by-side table: a Markdown row per case with each system's rate
// (`measure` turns an operation on probe n into ops/s) and Docket's ratio to
// the faster of the other two. A Case has `name` and `docket`, `sqlite`,
// `postgres`, each callable with a probe number.
template <class Case, class Measure>
void PrintVersusSqlTable(const std::vector<Case>& cases, Measure measure) {
  fmt::print("| case | Docket ops/s | SQLite ops/s | PostgreSQL ops/s | Docket / fastest other |\n");
  fmt::print("|---|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const double d = measure([&](int64_t n) { c.docket(n); });
    const double s = measure([&](int64_t n) { c.sqlite(n); });
    const double p = measure([&](int64_t n) { c.postgres(n); });
    fmt::print("| {} | {:.0f} | {:.0f} | {:.0f} | {:.2f} |\n", c.name, d, s, p, d / std::max(s, p));
  }
}

}  // namespace docket::bench
