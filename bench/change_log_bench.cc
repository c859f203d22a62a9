// change_log_bench: what the oplog and change streams cost and how fast they
// deliver (issue "The change log"), side by side with PostgreSQL's
// LISTEN/NOTIFY on the same changes, in one run on one machine:
//
//   1. the write path: inserts and a hot counter ($inc) against two alike
//      `docket serve`s, one standalone, one --replica-set (with the oplog),
//      rounds alternating; PostgreSQL inserts without and with a trigger
//      that NOTIFYs each row;
//   2. latency: one insert at a time, from sending it to a waiting watcher
//      (a change stream's awaitData getMore; a LISTENing connection)
//      receiving it;
//   3. fan-out: 1, 10 and 100 watchers, each receiving every one of a
//      burst of inserts.
//
//   change_log_bench <standalone-uri> <replica-set-uri> <postgres-conninfo> [seconds-per-case]
#include <fmt/core.h>

#include "bench/measure.h"
#include <libpq-fe.h>
#include <mongoc/mongoc.h>
#include <sys/select.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
double g_seconds = 2.0;
std::string g_standalone, g_replica_set, g_pg;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "change_log_bench: {}\n", what);
  std::exit(1);
}

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// ---- Docket (libmongoc) ----

mongoc_client_t* Client(const std::string& uri) {
  mongoc_client_t* c = mongoc_client_new(uri.c_str());
  if (c == nullptr) Die("bad URI " + uri);
  return c;
}

void Command(mongoc_client_t* c, bson_t* command) {
  bson_error_t error;
  bson_t reply;
  if (!mongoc_client_command_simple(c, "bench", command, nullptr, &reply, &error)) Die(error.message);
  bson_destroy(&reply);
  bson_destroy(command);
}

std::atomic<int64_t> g_next_id{0};

double DocketInsert(const std::string& uri, int threads) {
  std::vector<mongoc_client_t*> clients;
  for (int t = 0; t < threads; ++t) clients.push_back(Client(uri));
  const double rate = docket::bench::OpsPerSecond(threads, g_seconds, [&](int t, int64_t) {
    Command(clients[t], BCON_NEW("insert", BCON_UTF8("docs"), "documents", "[", "{", "_id",
                                 BCON_INT64(g_next_id.fetch_add(1)), "name", BCON_UTF8("user"), "score",
                                 BCON_INT32(42), "}", "]"));
  });
  for (auto* c : clients) mongoc_client_destroy(c);
  return rate;
}

double DocketCounter(const std::string& uri, int threads) {
  std::vector<mongoc_client_t*> clients;
  for (int t = 0; t < threads; ++t) clients.push_back(Client(uri));
  const double rate = docket::bench::OpsPerSecond(threads, g_seconds, [&](int t, int64_t) {
    Command(clients[t], BCON_NEW("findAndModify", BCON_UTF8("counters"), "query", "{", "_id", BCON_UTF8("hot"), "}",
                                 "update", "{", "$inc", "{", "n", BCON_INT32(1), "}", "}", "upsert", BCON_BOOL(true),
                                 "new", BCON_BOOL(true)));
  });
  for (auto* c : clients) mongoc_client_destroy(c);
  return rate;
}

// A change stream on bench.`collection`, opened before the writes it must see.
struct Watcher {
  mongoc_client_t* client;
  mongoc_collection_t* collection;
  mongoc_change_stream_t* stream;
};

Watcher Watch(const std::string& collection) {
  Watcher w;
  w.client = Client(g_replica_set);
  w.collection = mongoc_client_get_collection(w.client, "bench", collection.c_str());
  bson_t* opts = BCON_NEW("maxAwaitTimeMS", BCON_INT64(1000));
  bson_t pipeline = BSON_INITIALIZER;
  w.stream = mongoc_collection_watch(w.collection, &pipeline, opts);
  bson_destroy(opts);
  const bson_t* first;
  bson_error_t error;
  (void)mongoc_change_stream_next(w.stream, &first);  // opens the cursor (an empty first batch)
  if (mongoc_change_stream_error_document(w.stream, &error, nullptr)) Die(error.message);
  return w;
}

void Close(Watcher& w) {
  mongoc_change_stream_destroy(w.stream);
  mongoc_collection_destroy(w.collection);
  mongoc_client_destroy(w.client);
}

// The _id of the next event, waiting for it; -1 on an error.
int64_t NextEventId(Watcher& w) {
  const bson_t* event;
  while (!mongoc_change_stream_next(w.stream, &event)) {
    bson_error_t error;
    if (mongoc_change_stream_error_document(w.stream, &error, nullptr)) Die(error.message);
  }
  bson_iter_t it;
  if (!bson_iter_init(&it, event) || !bson_iter_find_descendant(&it, "documentKey._id", &it)) return -1;
  return bson_iter_as_int64(&it);
}

struct Latency {
  double median_us, p99_us, write_round_trip_us;
};

Latency DocketLatency(int events) {
  Watcher w = Watch("latency");
  std::vector<int64_t> received(events, 0);
  std::thread watcher([&] {
    for (int i = 0; i < events; ++i) {
      const int64_t id = NextEventId(w);
      if (id >= 0 && id < events) received[id] = NowNs();
    }
  });
  mongoc_client_t* writer = Client(g_replica_set);
  std::vector<double> latency, round_trip;
  for (int i = 0; i < events; ++i) {
    const int64_t sent = NowNs();
    Command(writer, BCON_NEW("insert", BCON_UTF8("latency"), "documents", "[", "{", "_id", BCON_INT64(i), "}", "]"));
    round_trip.push_back(static_cast<double>(NowNs() - sent) / 1000);
    // One change in flight at a time: wait for the watcher to have it.
    while (std::atomic_ref<int64_t>(received[i]).load() == 0) std::this_thread::yield();
    latency.push_back(static_cast<double>(std::atomic_ref<int64_t>(received[i]).load() - sent) / 1000);
  }
  watcher.join();
  mongoc_client_destroy(writer);
  Close(w);
  return {Median(latency), Percentile(latency, 0.99), Median(round_trip)};
}

struct FanOut {
  double seconds;             // from the first insert until every watcher had every event
  double events_per_second;   // events delivered, over all watchers
};

FanOut DocketFanOut(int watchers, int events, const std::string& collection) {
  std::vector<Watcher> ws;
  for (int i = 0; i < watchers; ++i) ws.push_back(Watch(collection));
  std::atomic<int> done{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < watchers; ++i) {
    readers.emplace_back([&, i] {
      for (int k = 0; k < events; ++k) NextEventId(ws[i]);
      done.fetch_add(1);
    });
  }
  mongoc_client_t* writer = Client(g_replica_set);
  const auto start = Clock::now();
  for (int k = 0; k < events; ++k) {
    Command(writer, BCON_NEW("insert", BCON_UTF8(collection.c_str()), "documents", "[", "{", "_id", BCON_INT64(k), "}", "]"));
  }
  for (auto& r : readers) r.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  mongoc_client_destroy(writer);
  for (auto& w : ws) Close(w);
  return {seconds, watchers * static_cast<double>(events) / seconds};
}

// ---- PostgreSQL (libpq) ----

PGconn* PgConnect() {
  PGconn* c = PQconnectdb(g_pg.c_str());
  if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
  PQclear(PQexec(c, "SET synchronous_commit = off"));
  return c;
}

void PgExec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) Die(PQerrorMessage(c));
  PQclear(r);
}

void PgSetup() {
  PGconn* c = PgConnect();
  PgExec(c, "DROP TABLE IF EXISTS plain, notified, latency, fanout");
  PgExec(c, "CREATE TABLE plain(id bigint PRIMARY KEY, doc jsonb)");
  for (const char* table : {"notified", "latency", "fanout"}) {
    PgExec(c, fmt::format("CREATE TABLE {}(id bigint PRIMARY KEY, doc jsonb)", table));
  }
  PgExec(c, "CREATE OR REPLACE FUNCTION notify_row() RETURNS trigger AS $$ BEGIN "
            "PERFORM pg_notify(TG_TABLE_NAME, NEW.id::text); RETURN NEW; END $$ LANGUAGE plpgsql");
  for (const char* table : {"notified", "latency", "fanout"}) {
    PgExec(c, fmt::format("CREATE TRIGGER notify AFTER INSERT ON {} FOR EACH ROW EXECUTE FUNCTION notify_row()", table));
  }
  PQfinish(c);
}

double PgInsert(const char* table, int threads) {
  std::vector<PGconn*> conns;
  for (int t = 0; t < threads; ++t) conns.push_back(PgConnect());
  const std::string sql = fmt::format("INSERT INTO {} VALUES ($1, '{{\"name\": \"user\", \"score\": 42}}')", table);
  const double rate = docket::bench::OpsPerSecond(threads, g_seconds, [&](int t, int64_t) {
    const std::string id = std::to_string(g_next_id.fetch_add(1));
    const char* params[1] = {id.c_str()};
    PGresult* r = PQexecParams(conns[t], sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(PQerrorMessage(conns[t]));
    PQclear(r);
  });
  for (auto* c : conns) PQfinish(c);
  return rate;
}

PGconn* PgListen(const char* channel) {
  PGconn* c = PgConnect();
  PgExec(c, fmt::format("LISTEN {}", channel));
  return c;
}

// The payload (row id) of the next notification, waiting for it.
int64_t PgNextNotification(PGconn* c) {
  while (true) {
    PQconsumeInput(c);
    if (PGnotify* n = PQnotifies(c)) {
      const int64_t id = std::atoll(n->extra);
      PQfreemem(n);
      return id;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(PQsocket(c), &fds);
    if (select(PQsocket(c) + 1, &fds, nullptr, nullptr, nullptr) < 0) Die("select failed");
  }
}

Latency PgLatency(int events) {
  PGconn* listener = PgListen("latency");
  std::vector<int64_t> received(events, 0);
  std::thread watcher([&] {
    for (int i = 0; i < events; ++i) {
      const int64_t id = PgNextNotification(listener);
      if (id >= 0 && id < events) std::atomic_ref<int64_t>(received[id]).store(NowNs());
    }
  });
  PGconn* writer = PgConnect();
  std::vector<double> latency, round_trip;
  for (int i = 0; i < events; ++i) {
    const std::string id = std::to_string(i);
    const char* params[1] = {id.c_str()};
    const int64_t sent = NowNs();
    PGresult* r = PQexecParams(writer, "INSERT INTO latency VALUES ($1, '{}')", 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(PQerrorMessage(writer));
    PQclear(r);
    round_trip.push_back(static_cast<double>(NowNs() - sent) / 1000);
    while (std::atomic_ref<int64_t>(received[i]).load() == 0) std::this_thread::yield();
    latency.push_back(static_cast<double>(std::atomic_ref<int64_t>(received[i]).load() - sent) / 1000);
  }
  watcher.join();
  PQfinish(writer);
  PQfinish(listener);
  return {Median(latency), Percentile(latency, 0.99), Median(round_trip)};
}

FanOut PgFanOut(int watchers, int events, int64_t base) {
  std::vector<PGconn*> listeners;
  for (int i = 0; i < watchers; ++i) listeners.push_back(PgListen("fanout"));
  std::vector<std::thread> readers;
  for (int i = 0; i < watchers; ++i) {
    readers.emplace_back([&, i] {
      for (int k = 0; k < events; ++k) PgNextNotification(listeners[i]);
    });
  }
  PGconn* writer = PgConnect();
  const auto start = Clock::now();
  for (int k = 0; k < events; ++k) {
    const std::string id = std::to_string(base + k);
    const char* params[1] = {id.c_str()};
    PGresult* r = PQexecParams(writer, "INSERT INTO fanout VALUES ($1, '{}')", 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(PQerrorMessage(writer));
    PQclear(r);
  }
  for (auto& r : readers) r.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  PQfinish(writer);
  for (auto* c : listeners) PQfinish(c);
  return {seconds, watchers * static_cast<double>(events) / seconds};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) Die("usage: change_log_bench <standalone-uri> <replica-set-uri> <postgres-conninfo> [seconds]");
  g_standalone = argv[1];
  g_replica_set = argv[2];
  g_pg = argv[3];
  if (argc > 4) g_seconds = std::atof(argv[4]);
  mongoc_init();
  PgSetup();

  constexpr int kRounds = 3;
  fmt::print("## Write path: standalone vs --replica-set (oplog), median of {} alternating rounds\n\n", kRounds);
  fmt::print("| case | standalone ops/s | replica set ops/s | replica set / standalone |\n|---|---:|---:|---:|\n");
  for (int threads : {1, 4}) {
    for (const char* what : {"insert", "hot counter"}) {
      std::vector<double> plain, logged;
      for (int round = 0; round < kRounds; ++round) {
        const bool insert = std::string(what) == "insert";
        plain.push_back(insert ? DocketInsert(g_standalone, threads) : DocketCounter(g_standalone, threads));
        logged.push_back(insert ? DocketInsert(g_replica_set, threads) : DocketCounter(g_replica_set, threads));
      }
      fmt::print("| {}, {} conn | {:.0f} | {:.0f} | {:.2f} |\n", what, threads, Median(plain), Median(logged),
                 Median(logged) / Median(plain));
    }
  }
  fmt::print("\n| PostgreSQL insert | plain ops/s | with NOTIFY trigger ops/s | notify / plain |\n|---|---:|---:|---:|\n");
  for (int threads : {1, 4}) {
    std::vector<double> plain, notified;
    for (int round = 0; round < kRounds; ++round) {
      plain.push_back(PgInsert("plain", threads));
      notified.push_back(PgInsert("notified", threads));
    }
    fmt::print("| {} conn | {:.0f} | {:.0f} | {:.2f} |\n", threads, Median(plain), Median(notified),
               Median(notified) / Median(plain));
  }

  constexpr int kLatencyEvents = 2000;
  const Latency docket = DocketLatency(kLatencyEvents);
  const Latency pg = PgLatency(kLatencyEvents);
  fmt::print("\n## Latency: {} inserts one at a time, from sending to the waiting watcher receiving it\n\n",
             kLatencyEvents);
  fmt::print("| system | median µs | p99 µs | the insert's own round trip, median µs |\n|---|---:|---:|---:|\n");
  fmt::print("| Docket change stream | {:.0f} | {:.0f} | {:.0f} |\n", docket.median_us, docket.p99_us,
             docket.write_round_trip_us);
  fmt::print("| PostgreSQL LISTEN/NOTIFY | {:.0f} | {:.0f} | {:.0f} |\n", pg.median_us, pg.p99_us, pg.write_round_trip_us);

  constexpr int kBurst = 1000;
  fmt::print("\n## Fan-out: {} inserts from one connection, every watcher receives every one\n\n", kBurst);
  fmt::print("| watchers | Docket s | Docket events/s delivered | PostgreSQL s | PostgreSQL events/s delivered |\n"
             "|---:|---:|---:|---:|---:|\n");
  int64_t pg_base = 0;
  for (int watchers : {1, 10, 100}) {
    const FanOut d = DocketFanOut(watchers, kBurst, "fanout" + std::to_string(watchers));
    const FanOut p = PgFanOut(watchers, kBurst, pg_base);
    pg_base += kBurst;
    fmt::print("| {} | {:.2f} | {:.0f} | {:.2f} | {:.0f} |\n", watchers, d.seconds, d.events_per_second, p.seconds,
               p.events_per_second);
  }
  mongoc_cleanup();
  return 0;
}
