// server_bench: `docket serve`, PostgreSQL 15 and Redis 7 doing the same work
// over loopback in one run, from a C++ load generator (libmongoc, libpq,
// hiredis: one connection per thread), so the client is not the bottleneck
// and the ratios are taken minutes apart on the same machine. Prints a
// Markdown table. bench/run_server_bench.sh starts the three servers.
//
//   server_bench <docket-uri> <postgres-conninfo> <redis-port> [seconds-per-case]
#include <fmt/core.h>

#include "bench/measure.h"
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <sys/resource.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
double g_seconds = 2.0;
std::string g_docket_uri, g_pg, g_redis_port;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "server_bench: {}\n", what);
  std::exit(1);
}

// Each thread gets `make()`'s per-connection state, then runs `op` until time
// is up; returns operations per second over all threads.
// The load generator's own CPU time (user + system, all threads) per
// operation in the last Measure: what the client library and its side of
// the kernel cost, on the cores the server shares.
double g_client_us_per_op = 0;

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

template <typename Conn>
double Measure(int threads, const std::function<Conn*()>& make, const std::function<void(Conn*, int64_t)>& op,
               const std::function<void(Conn*)>& destroy) {
  std::vector<Conn*> conns;
  for (int t = 0; t < threads; ++t) conns.push_back(make());
  std::vector<std::mt19937_64> rngs;
  for (int t = 0; t < threads; ++t) rngs.emplace_back(static_cast<uint64_t>(t));
  const double cpu_before = ProcessCpuSeconds();
  const auto start = Clock::now();
  const double rate = docket::bench::OpsPerSecond(threads, g_seconds, [&](int t, int64_t n) {
    op(conns[t], static_cast<int64_t>(rngs[t]() >> 1) ^ n);
  });
  const double ops = rate * std::chrono::duration<double>(Clock::now() - start).count();
  g_client_us_per_op = ops > 0 ? (ProcessCpuSeconds() - cpu_before) * 1e6 / ops : 0;
  for (Conn* c : conns) destroy(c);
  return rate;
}

// ---- Docket (libmongoc, one single-threaded client per thread) ----

mongoc_client_t* DocketClient() {
  mongoc_client_t* c = mongoc_client_new(g_docket_uri.c_str());
  if (c == nullptr) Die("bad docket URI");
  return c;
}
void DocketClose(mongoc_client_t* c) { mongoc_client_destroy(c); }

void DocketCommand(mongoc_client_t* c, const bson_t* command) {
  bson_error_t error;
  bson_t reply;
  if (!mongoc_client_command_simple(c, "bench", command, nullptr, &reply, &error)) Die(error.message);
  bson_iter_t it;
  if (bson_iter_init_find(&it, &reply, "writeErrors")) Die("write error");
  bson_destroy(&reply);
}

constexpr int kLookupKeys = 100000;

double DocketCounter(int threads, bool durable) {
  return Measure<mongoc_client_t>(threads, DocketClient, [durable](mongoc_client_t* c, int64_t) {
    bson_t* cmd = BCON_NEW("findAndModify", BCON_UTF8("counters"), "query", "{", "_id", BCON_UTF8("hot"), "}",
                           "update", "{", "$inc", "{", "n", BCON_INT32(1), "}", "}", "upsert", BCON_BOOL(true),
                           "new", BCON_BOOL(true), "writeConcern", "{", "j", BCON_BOOL(durable), "}");
    DocketCommand(c, cmd);
    bson_destroy(cmd);
  }, DocketClose);
}

std::atomic<int64_t> g_next_insert{0};

double DocketInsert(int threads) {
  return Measure<mongoc_client_t>(threads, DocketClient, [](mongoc_client_t* c, int64_t) {
    int64_t id = g_next_insert.fetch_add(1);
    bson_t* cmd = BCON_NEW("insert", BCON_UTF8("docs"), "documents", "[", "{", "_id", BCON_INT64(id), "name",
                           BCON_UTF8("user"), "score", BCON_INT32(42), "tags", "[", BCON_UTF8("a"), BCON_UTF8("b"),
                           "]", "}", "]");
    DocketCommand(c, cmd);
    bson_destroy(cmd);
  }, DocketClose);
}

void DocketLoadLookups() {
  mongoc_client_t* c = DocketClient();
  for (int base = 0; base < kLookupKeys; base += 1000) {
    bson_t cmd, docs;
    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "insert", "lookups");
    BSON_APPEND_ARRAY_BEGIN(&cmd, "documents", &docs);
    for (int i = 0; i < 1000; ++i) {
      bson_t doc;
      std::string key = std::to_string(i);
      BSON_APPEND_DOCUMENT_BEGIN(&docs, key.c_str(), &doc);
      BSON_APPEND_INT32(&doc, "_id", base + i);
      BSON_APPEND_UTF8(&doc, "name", "user");
      BSON_APPEND_INT32(&doc, "score", base + i);
      bson_append_document_end(&docs, &doc);
    }
    bson_append_array_end(&cmd, &docs);
    DocketCommand(c, &cmd);
    bson_destroy(&cmd);
  }
  DocketClose(c);
}

double DocketPing(int threads) {
  return Measure<mongoc_client_t>(threads, DocketClient, [](mongoc_client_t* c, int64_t) {
    bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
    DocketCommand(c, cmd);
    bson_destroy(cmd);
  }, DocketClose);
}

double DocketFind(int threads) {
  return Measure<mongoc_client_t>(threads, DocketClient, [](mongoc_client_t* c, int64_t r) {
    bson_t* cmd = BCON_NEW("find", BCON_UTF8("lookups"), "filter", "{", "_id", BCON_INT32(static_cast<int32_t>(r % kLookupKeys)),
                           "}", "limit", BCON_INT32(1), "singleBatch", BCON_BOOL(true));
    DocketCommand(c, cmd);
    bson_destroy(cmd);
  }, DocketClose);
}

// ---- PostgreSQL (libpq) ----

PGconn* PgConnect(bool durable) {
  PGconn* c = PQconnectdb(g_pg.c_str());
  if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
  PGresult* r = PQexec(c, durable ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
  PQclear(r);
  return c;
}

void PgExec(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) Die(PQerrorMessage(c));
  PQclear(r);
}

void PgSetup() {
  PGconn* c = PgConnect(true);
  PgExec(c, "DROP TABLE IF EXISTS counters; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS lookups");
  PgExec(c, "CREATE TABLE counters(id int PRIMARY KEY, n bigint); INSERT INTO counters VALUES (1, 0)");
  PgExec(c, "CREATE TABLE docs(id bigint PRIMARY KEY, doc jsonb)");
  PgExec(c, "CREATE TABLE lookups(id int PRIMARY KEY, doc jsonb)");
  PgExec(c, "INSERT INTO lookups SELECT g, jsonb_build_object('name', 'user', 'score', g) FROM generate_series(0, 99999) g");
  PgExec(c, "VACUUM ANALYZE lookups");
  PQfinish(c);
}

double PgRun(int threads, bool durable, const char* sql, bool with_param) {
  return Measure<PGconn>(threads, [durable] { return PgConnect(durable); }, [sql, with_param](PGconn* c, int64_t r) {
    std::string value = std::to_string(with_param ? r % kLookupKeys : 0);
    const char* params[1] = {value.c_str()};
    PGresult* res = PQexecParams(c, sql, with_param ? 1 : 0, nullptr, with_param ? params : nullptr, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) Die(PQerrorMessage(c));
    PQclear(res);
  }, [](PGconn* c) { PQfinish(c); });
}

std::atomic<int64_t> g_next_pg_insert{0};

double PgInsert(int threads) {
  return Measure<PGconn>(threads, [] { return PgConnect(false); }, [](PGconn* c, int64_t) {
    std::string id = std::to_string(g_next_pg_insert.fetch_add(1));
    const char* params[1] = {id.c_str()};
    PGresult* res = PQexecParams(c, "INSERT INTO docs VALUES ($1, '{\"name\": \"user\", \"score\": 42, \"tags\": [\"a\", \"b\"]}')",
                                 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) Die(PQerrorMessage(c));
    PQclear(res);
  }, [](PGconn* c) { PQfinish(c); });
}

// ---- Redis (hiredis) ----

redisContext* RedisConnect() {
  redisContext* c = redisConnect("127.0.0.1", std::atoi(g_redis_port.c_str()));
  if (c == nullptr || c->err) Die("cannot connect to redis");
  return c;
}


void RedisCommand(redisContext* c, const std::string& command) {
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) Die("redis: " + command);
  freeReplyObject(reply);
}

double RedisRun(int threads, const std::function<std::string(int64_t)>& command) {
  return Measure<redisContext>(threads, RedisConnect, [&command](redisContext* c, int64_t r) { RedisCommand(c, command(r)); },
                               [](redisContext* c) { redisFree(c); });
}

struct Row {
  std::string name;
  double docket, postgres, redis;
};
std::vector<Row> g_rows;

void Report(const std::string& name, double docket, double postgres, double redis) {
  g_rows.push_back({name, docket, postgres, redis});
  fmt::print(stderr, "{:<48} docket {:>9.0f}/s  postgres {:>9.0f}/s  redis {:>9.0f}/s\n", name, docket, postgres, redis);
}

std::string Ratio(double a, double b) { return b > 0 ? fmt::format("{:.2f}", a / b) : "–"; }

// The round-trip floor: a command that does no work (ping, SELECT 1, PING)
// through each client library, with the load generator's CPU per operation.
struct FloorRow {
  int threads;
  double rate[3], client_us[3];  // Docket, PostgreSQL, Redis
};
std::vector<FloorRow> g_floor;

void MeasureFloor(int threads) {
  FloorRow row{threads, {}, {}};
  row.rate[0] = DocketPing(threads);
  row.client_us[0] = g_client_us_per_op;
  row.rate[1] = PgRun(threads, false, "SELECT 1", false);
  row.client_us[1] = g_client_us_per_op;
  row.rate[2] = RedisRun(threads, [](int64_t) { return std::string("PING"); });
  row.client_us[2] = g_client_us_per_op;
  fmt::print(stderr, "round trip, {:>2} conn: docket {:>9.0f}/s ({:.1f} us client)  postgres {:>9.0f}/s ({:.1f})  redis {:>9.0f}/s ({:.1f})\n",
             threads, row.rate[0], row.client_us[0], row.rate[1], row.client_us[1], row.rate[2], row.client_us[2]);
  g_floor.push_back(row);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) Die("usage: server_bench <docket-uri> <postgres-conninfo> <redis-port> [seconds]");
  g_docket_uri = argv[1];
  g_pg = argv[2];
  g_redis_port = argv[3];
  if (argc > 4) g_seconds = std::atof(argv[4]);
  mongoc_init();
  PgSetup();
  {
    redisContext* r = RedisConnect();
    RedisCommand(r, "FLUSHALL");
    for (int i = 0; i < kLookupKeys; ++i) RedisCommand(r, fmt::format("SET k{} v{}", i, i));
    redisFree(r);
  }
  DocketLoadLookups();

  for (bool durable : {false, true}) {
    {
      redisContext* r = RedisConnect();
      RedisCommand(r, durable ? "CONFIG SET appendfsync always" : "CONFIG SET appendfsync everysec");
      redisFree(r);
    }
    for (int threads : {1, 4, 16}) {
      Report(fmt::format("hot counter, {} conn, {}", threads, durable ? "durable (j:true)" : "relaxed (j:false)"),
             DocketCounter(threads, durable),
             PgRun(threads, durable, "UPDATE counters SET n = n + 1 WHERE id = 1 RETURNING n", false),
             RedisRun(threads, [](int64_t) { return std::string("INCR hot"); }));
    }
  }
  for (int threads : {1, 4, 16}) {
    Report(fmt::format("insert small document, {} conn, relaxed", threads), DocketInsert(threads), PgInsert(threads), 0);
  }
  for (int threads : {1, 4, 16}) {
    Report(fmt::format("find by _id, {} conn", threads), DocketFind(threads),
           PgRun(threads, false, "SELECT doc FROM lookups WHERE id = $1", true),
           RedisRun(threads, [](int64_t r) { return fmt::format("GET k{}", r % kLookupKeys); }));
  }
  for (int threads : {1, 4, 16}) MeasureFloor(threads);
  fmt::print("| case | Docket ops/s | PostgreSQL ops/s | Redis ops/s | Docket / PostgreSQL | Docket / Redis |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|\n");
  for (const Row& r : g_rows) {
    fmt::print("| {} | {:.0f} | {:.0f} | {} | {} | {} |\n", r.name, r.docket, r.postgres,
               r.redis > 0 ? fmt::format("{:.0f}", r.redis) : "–", Ratio(r.docket, r.postgres), Ratio(r.docket, r.redis));
  }
  fmt::print("\n| round trip that does no work (ping; SELECT 1; PING) | Docket ops/s | PostgreSQL ops/s | Redis ops/s |"
             " load generator CPU per op, µs (Docket, PostgreSQL, Redis) |\n");
  fmt::print("|---|---:|---:|---:|---|\n");
  for (const FloorRow& r : g_floor) {
    fmt::print("| {} conn | {:.0f} | {:.0f} | {:.0f} | {:.1f}, {:.1f}, {:.1f} |\n", r.threads, r.rate[0], r.rate[1], r.rate[2],
               r.client_us[0], r.client_us[1], r.client_us[2]);
  }
  mongoc_cleanup();
  return 0;
}
