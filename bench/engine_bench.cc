// engine_bench: Docket's embedded engine and SQLite 3 (WAL mode) doing the
// same work in the same run, so that the ratios mean something on a shared,
// noisy machine. Prints a Markdown table for docs/benchmarks.md.
//
//   build/release/bench/engine_bench [seconds-per-case] [case-name-substring]
//
// ENGINE_BENCH_DOCKET_ONLY=1 skips the SQLite side (for profiling Docket with
// perf; the ratios are then meaningless).
#include <bson/bson.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/measure.h"
#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
double g_seconds = 1.0;
std::string g_only;  // runs only the cases whose name contains this

bool Wanted(const std::string& name) { return name.find(g_only) != std::string::npos; }

// Runs one SQLite measurement unless ENGINE_BENCH_DOCKET_ONLY is set.
double Sqlite(const std::function<double()>& measure) {
  const char* only = std::getenv("ENGINE_BENCH_DOCKET_ONLY");
  return only != nullptr && *only != '\0' && *only != '0' ? 0.0 : measure();
}

// Runs `op(thread, i)` on `threads` threads for g_seconds; returns ops/second.
double Measure(int threads, const std::function<void(int, int64_t)>& op) {
  return docket::bench::OpsPerSecond(threads, g_seconds, op);
}

docket::Document Json(const std::string& s) { return *docket::Document::FromJson(s); }

std::string TempPath(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("docket-bench-" + name);
  std::filesystem::remove_all(p);
  return p.string();
}

std::unique_ptr<docket::Engine> OpenDocket(bool memory, const std::string& name) {
  std::string path = memory ? "" : TempPath(name);
  if (!memory) std::filesystem::create_directories(path);
  return *docket::Engine::Open({.path = path, .in_memory = memory});
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fmt::print(stderr, "sqlite {}: {}\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

sqlite3* OpenSqlite(const std::string& path, bool full_sync) {
  sqlite3* db = nullptr;
  Check(sqlite3_open(path.c_str(), &db), db, "open");
  sqlite3_busy_timeout(db, 10000);
  Check(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), db, "wal");
  Check(sqlite3_exec(db, full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", nullptr, nullptr,
                     nullptr),
        db, "sync");
  return db;
}

struct Row {
  std::string name;
  double docket;
  double sqlite;
};
std::vector<Row> g_rows;

void Report(const std::string& name, double docket_rate, double sqlite_rate) {
  g_rows.push_back({name, docket_rate, sqlite_rate});
  fmt::print(stderr, "{:<55} docket {:>12.0f}/s  sqlite {:>12.0f}/s  ratio {:.2f}\n", name, docket_rate, sqlite_rate,
             sqlite_rate > 0 ? docket_rate / sqlite_rate : 0.0);
}

double SqliteCounter(int threads, bool full_sync) {
  std::string path = TempPath("counter.sqlite");
  {
    sqlite3* db = OpenSqlite(path, full_sync);
    Check(sqlite3_exec(db, "CREATE TABLE counters(id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO counters VALUES(1, 0)",
                       nullptr, nullptr, nullptr),
          db, "create");
    sqlite3_close(db);
  }
  std::vector<sqlite3*> conns(threads);
  std::vector<sqlite3_stmt*> stmts(threads), begins(threads), commits(threads);
  for (int t = 0; t < threads; ++t) {
    conns[t] = OpenSqlite(path, full_sync);
    sqlite3_prepare_v2(conns[t], "BEGIN IMMEDIATE", -1, &begins[t], nullptr);
    sqlite3_prepare_v2(conns[t], "UPDATE counters SET n = n + 1 WHERE id = 1 RETURNING n", -1, &stmts[t], nullptr);
    sqlite3_prepare_v2(conns[t], "COMMIT", -1, &commits[t], nullptr);
  }
  double rate = Measure(threads, [&](int t, int64_t) {
    Check(sqlite3_step(begins[t]), conns[t], "begin");
    sqlite3_reset(begins[t]);
    Check(sqlite3_step(stmts[t]), conns[t], "update");
    while (sqlite3_step(stmts[t]) == SQLITE_ROW) {
    }
    sqlite3_reset(stmts[t]);
    Check(sqlite3_step(commits[t]), conns[t], "commit");
    sqlite3_reset(commits[t]);
  });
  for (int t = 0; t < threads; ++t) {
    sqlite3_finalize(begins[t]);
    sqlite3_finalize(stmts[t]);
    sqlite3_finalize(commits[t]);
    sqlite3_close(conns[t]);
  }
  return rate;
}

double DocketCounter(int threads, bool journal, bool memory) {
  auto engine = OpenDocket(memory, "counter");
  docket::Collection counters = engine->collection("bench", "counters");
  docket::FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = docket::ReturnDocument::kAfter;
  options.write.write_concern.journal = journal;
  docket::Document filter = Json(R"({"_id": "hot"})"), update = Json(R"({"$inc": {"n": 1}})");
  return Measure(threads, [&](int, int64_t) {
    auto r = counters.FindOneAndUpdate(filter, update, options);
    if (!r.ok()) std::abort();
  });
}

const std::string kPayload = std::string(150, 'p');

// The ~200-byte document the insert and find cases store, built as BSON the
// way a driver or the ODM hands it over (and validated on the way in, as the
// server would), so Docket's side pays no JSON parsing that SQLite's skips.
docket::Document UserDoc(int64_t i) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, "_id", i);
  std::string name = fmt::format("user{}", i);
  BSON_APPEND_UTF8(&doc, "name", name.c_str());
  BSON_APPEND_UTF8(&doc, "payload", kPayload.c_str());
  auto result = docket::Document::FromBytes(bson_get_data(&doc), doc.len);
  bson_destroy(&doc);
  return *std::move(result);
}

double DocketInsert(bool memory) {
  auto engine = OpenDocket(memory, "insert");
  docket::Collection c = engine->collection("bench", "docs");
  return Measure(1, [&](int, int64_t i) {
    auto r = c.InsertOne(UserDoc(i));
    if (!r.ok()) std::abort();
  });
}

double SqliteInsert() {
  sqlite3* db = OpenSqlite(TempPath("insert.sqlite"), false);
  Check(sqlite3_exec(db, "CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT)", nullptr, nullptr, nullptr), db, "c");
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, "INSERT INTO docs VALUES(?, ?)", -1, &stmt, nullptr);
  double rate = Measure(1, [&](int, int64_t i) {
    std::string doc = fmt::format(R"({{"_id": {}, "name": "user{}", "payload": "{}"}})", i, i, kPayload);
    sqlite3_bind_int64(stmt, 1, i);
    sqlite3_bind_text(stmt, 2, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
    Check(sqlite3_step(stmt), db, "insert");
    sqlite3_reset(stmt);
  });
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rate;
}

double DocketInsertMany(bool memory) {
  auto engine = OpenDocket(memory, "insertmany");
  docket::Collection c = engine->collection("bench", "docs");
  int64_t next = 0;
  double batches = Measure(1, [&](int, int64_t) {
    std::vector<docket::Document> docs;
    docs.reserve(1000);
    for (int k = 0; k < 1000; ++k, ++next) {
      docs.push_back(UserDoc(next));
    }
    auto r = c.InsertMany(docs);
    if (!r.ok() || !r->write_errors.empty()) std::abort();
  });
  return batches * 1000;
}

double SqliteInsertMany() {
  sqlite3* db = OpenSqlite(TempPath("insertmany.sqlite"), false);
  Check(sqlite3_exec(db, "CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT)", nullptr, nullptr, nullptr), db, "c");
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, "INSERT INTO docs VALUES(?, ?)", -1, &stmt, nullptr);
  int64_t next = 0;
  double batches = Measure(1, [&](int, int64_t) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int k = 0; k < 1000; ++k, ++next) {
      std::string doc = fmt::format(R"({{"_id": {}, "name": "user{}", "payload": "{}"}})", next, next, kPayload);
      sqlite3_bind_int64(stmt, 1, next);
      sqlite3_bind_text(stmt, 2, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
      Check(sqlite3_step(stmt), db, "insert");
      sqlite3_reset(stmt);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  });
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return batches * 1000;
}

constexpr int kLookupDocs = 100000;

double DocketFindById(bool memory, bool flushed) {
  auto engine = OpenDocket(memory, "find");
  docket::Collection c = engine->collection("bench", "docs");
  std::vector<docket::Document> docs;
  for (int i = 0; i < kLookupDocs; ++i) {
    docs.push_back(UserDoc(i));
  }
  if (!c.InsertMany(docs).ok()) std::abort();
  if (flushed && !engine->Flush().ok()) std::abort();
  std::vector<docket::Document> filters;
  for (int i = 0; i < kLookupDocs; ++i) filters.push_back(Json(fmt::format(R"({{"_id": {}}})", i)));
  std::mt19937 rng(1);
  return Measure(1, [&](int, int64_t) {
    auto r = c.FindOne(filters[rng() % kLookupDocs]);
    if (!r.ok() || !*r) std::abort();
  });
}

double SqliteFindById() {
  sqlite3* db = OpenSqlite(TempPath("find.sqlite"), false);
  Check(sqlite3_exec(db, "CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT)", nullptr, nullptr, nullptr), db, "c");
  sqlite3_stmt* ins;
  sqlite3_prepare_v2(db, "INSERT INTO docs VALUES(?, ?)", -1, &ins, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (int i = 0; i < kLookupDocs; ++i) {
    std::string doc = fmt::format(R"({{"_id": {}, "name": "user{}", "payload": "{}"}})", i, i, kPayload);
    sqlite3_bind_int64(ins, 1, i);
    sqlite3_bind_text(ins, 2, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_finalize(ins);
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, "SELECT doc FROM docs WHERE id = ?", -1, &stmt, nullptr);
  std::mt19937 rng(1);
  double rate = Measure(1, [&](int, int64_t) {
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(rng() % kLookupDocs));
    if (sqlite3_step(stmt) != SQLITE_ROW) std::abort();
    std::string copy(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_reset(stmt);
  });
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_seconds = std::atof(argv[1]);
  if (argc > 2) g_only = argv[2];
  for (bool journal : {false, true}) {
    for (int threads : {1, 2, 16}) {
      auto name = [&](bool memory) {
        return fmt::format("hot counter $inc upsert, {} thr, j:{}, {}", threads, journal ? "true" : "false",
                           memory ? "memory" : "disk");
      };
      if (!Wanted(name(false)) && !Wanted(name(true))) continue;
      double sqlite_rate = Sqlite([&] { return SqliteCounter(threads, journal); });
      for (bool memory : {false, true}) {
        if (Wanted(name(memory))) Report(name(memory), DocketCounter(threads, journal, memory), sqlite_rate);
      }
    }
  }
  if (Wanted("insertOne ~200 B, 1 thr, disk")) {
    double sqlite_insert = Sqlite(SqliteInsert);
    Report("insertOne ~200 B, 1 thr, disk", DocketInsert(false), sqlite_insert);
  }
  if (Wanted("insertMany batches of 1,000 (docs/s), disk")) {
    double sqlite_many = Sqlite(SqliteInsertMany);
    Report("insertMany batches of 1,000 (docs/s), disk", DocketInsertMany(false), sqlite_many);
  }
  const char* kInMemtable = "find by _id, 100k docs, 1 thr, disk, all in the memtable";
  const char* kInTables = "find by _id, 100k docs, 1 thr, disk, flushed to table files";
  if (Wanted(kInMemtable) || Wanted(kInTables)) {
    double sqlite_find = Sqlite(SqliteFindById);
    if (Wanted(kInMemtable)) Report(kInMemtable, DocketFindById(false, false), sqlite_find);
    if (Wanted(kInTables)) Report(kInTables, DocketFindById(false, true), sqlite_find);
  }

  fmt::print("| case | Docket ops/s | SQLite ops/s | Docket / SQLite |\n|---|---:|---:|---:|\n");
  for (const Row& r : g_rows) {
    fmt::print("| {} | {:.0f} | {:.0f} | {:.2f} |\n", r.name, r.docket, r.sqlite, r.docket / r.sqlite);
  }
  return 0;
}
