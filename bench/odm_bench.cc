// odm_bench: what the typed ODM costs over direct engine calls, and how fast
// each sequence strategy hands out numbers — embedded, over the wire
// (docket serve), and against PostgreSQL's nextval and a locked counter row.
// bench/run_odm_bench.sh starts docket serve and PostgreSQL and runs this.
//
//   odm_bench <mongodb-uri | -> <postgres-conninfo | -> [seconds-per-case]
#include <bson/bson.h>
#include <fmt/core.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "bench/measure.h"
#include "docket/engine.h"
#include "docket/odm.h"

namespace {

using Clock = std::chrono::steady_clock;
double g_seconds = 2.0;

double Measure(int threads, const std::function<void(int, int64_t)>& op) {
  return docket::bench::OpsPerSecond(threads, g_seconds, op);
}

// The calling thread's CPU time in seconds: the overhead cases are single-
// threaded, and CPU time leaves out the time this shared machine spends
// running other people's work.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Operations per CPU-second of one thread, over about `seconds` of CPU time.
double MeasureCpu(double seconds, const std::function<void(int, int64_t)>& op) {
  int64_t n = 0;
  const double start = ThreadCpuSeconds();
  double used = 0;
  do {
    for (int i = 0; i < 256; ++i) op(0, n++);
    used = ThreadCpuSeconds() - start;
  } while (used < seconds);
  return static_cast<double>(n) / used;
}

// Two single-thread cases measured in alternating rounds (A B A B ...) so
// that drift hits both alike; returns each side's median rate per CPU-second.
std::pair<double, double> MeasurePair(const std::function<void(int, int64_t)>& a,
                                      const std::function<void(int, int64_t)>& b) {
  const int rounds = 7;
  std::vector<double> ra, rb;
  for (int r = 0; r < rounds; ++r) {
    ra.push_back(MeasureCpu(g_seconds / rounds, a));
    rb.push_back(MeasureCpu(g_seconds / rounds, b));
  }
  std::sort(ra.begin(), ra.end());
  std::sort(rb.begin(), rb.end());
  return {ra[rounds / 2], rb[rounds / 2]};
}

// A tight single-thread loop, timed by count (for the nanosecond paths).
double MeasureTight(const std::function<void()>& op) {
  int64_t n = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 4096; ++i) op();
    n += 4096;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < g_seconds);
  return static_cast<double>(n) / elapsed;
}

struct Order {
  docket::ObjectId id;
  std::string customer;
  int64_t total_cents = 0;
  std::vector<std::string> items;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, customer, total_cents, items))
DOCKET_PRIMARY_KEY(Order, id)

struct Counter {
  std::string name;
  int64_t value = 0;
};
BOOST_DESCRIBE_STRUCT(Counter, (), (name, value))
DOCKET_PRIMARY_KEY(Counter, name)

struct Row {
  std::string name;
  double a, b;
  const char* unit;
};
std::vector<Row> g_rows;

void Report(const std::string& name, double a, double b, const char* unit) {
  g_rows.push_back({name, a, b, unit});
  fmt::print(stderr, "{:<70} {:>14.0f} {:>14.0f} {}\n", name, a, b, unit);
}

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "odm_bench: {}\n", what);
  std::exit(1);
}

// ODM vs engine on the same engine: insert and findOneAndUpdate $inc.
void Overhead() {
  auto client = docket::odm::Client::Open("docket:memory");
  auto orders = client.Database("bench").Collection<Order>("orders");
  auto counters = client.Database("bench").Collection<Counter>("counters");
  auto direct_engine = docket::Engine::Open({.path = "", .in_memory = true});
  if (!direct_engine.ok()) Die(direct_engine.status().ToString());
  docket::Collection raw_orders = (*direct_engine)->collection("bench", "orders");
  docket::Collection raw_counters = (*direct_engine)->collection("bench", "counters");
  const std::vector<std::string> items = {"pen", "ink", "paper"};

  // Both sides build the same document from the same values each time.
  auto [odm_insert, engine_insert] = MeasurePair([&](int, int64_t i) {
    Order o{docket::ObjectId(), "customer" + std::to_string(i % 1000), i, items};
    orders.InsertOne(o);
  }, [&](int, int64_t i) {
    bson_t doc = BSON_INITIALIZER, list;
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    BSON_APPEND_OID(&doc, "_id", &oid);
    std::string customer = "customer" + std::to_string(i % 1000);
    BSON_APPEND_UTF8(&doc, "customer", customer.c_str());
    BSON_APPEND_INT64(&doc, "total_cents", i);
    BSON_APPEND_ARRAY_BEGIN(&doc, "items", &list);
    for (size_t k = 0; k < items.size(); ++k) BSON_APPEND_UTF8(&list, std::to_string(k).c_str(), items[k].c_str());
    bson_append_array_end(&doc, &list);
    auto d = docket::Document::FromBson(&doc);
    bson_destroy(&doc);
    if (!raw_orders.InsertOne(*d).ok()) Die("engine insert");
  });
  Report("insertOne of a small model: ODM vs engine (docs per CPU-second)", odm_insert, engine_insert, "ODM, engine");

  using namespace docket::odm;
  docket::FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = docket::ReturnDocument::kAfter;
  auto [odm_fam, engine_fam] = MeasurePair([&](int, int64_t) {
    auto after = counters.FindOneAndUpdate(field(&Counter::name) == "hot", inc(&Counter::value, 1), true, true);
    if (!after) Die("odm findAndModify");
  }, [&](int, int64_t) {
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, inc_doc;
    BSON_APPEND_UTF8(&filter, "_id", "hot");
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc_doc);
    BSON_APPEND_INT64(&inc_doc, "value", 1);
    bson_append_document_end(&update, &inc_doc);
    auto f = docket::Document::FromBson(&filter), u = docket::Document::FromBson(&update);
    bson_destroy(&filter);
    bson_destroy(&update);
    auto r = raw_counters.FindOneAndUpdate(*f, *u, options);
    if (!r.ok() || !*r) Die("engine findAndModify");
    (void)docket::odm::FromDocument<Counter>(**r);  // the ODM hands back a model; so does this side
  });
  Report("findOneAndUpdate $inc (upsert, return new): ODM vs engine (ops per CPU-second)", odm_fam, engine_fam, "ODM, engine");
}

// Sequences: one row per strategy, 1 and 16 threads.
void Sequences(const std::string& label, docket::odm::Database db) {
  using namespace docket::odm;
  for (SequenceStrategy strategy : {SequenceStrategy::kAtomic, SequenceStrategy::kBlock, SequenceStrategy::kGapless}) {
    if (strategy == SequenceStrategy::kGapless && !db.SupportsTransactions()) continue;
    const char* name = strategy == SequenceStrategy::kAtomic ? "atomic" : strategy == SequenceStrategy::kBlock ? "block" : "gapless";
    SequenceOptions options;
    options.strategy = strategy;
    options.block_size = 1000;
    Sequence seq = db.Sequence(std::string("bench_") + name, options);
    double rates[2];
    int threads[2] = {1, 16};
    for (int k = 0; k < 2; ++k) {
      if (strategy == SequenceStrategy::kBlock && threads[k] == 1) {
        rates[k] = MeasureTight([&] { (void)seq.Next(); });
      } else if (strategy == SequenceStrategy::kGapless) {
        rates[k] = Measure(threads[k], [&](int, int64_t) { db.WithTransaction([&](Session& s) { (void)seq.Next(s); }); });
      } else {
        rates[k] = Measure(threads[k], [&](int, int64_t) { (void)seq.Next(); });
      }
    }
    Report(fmt::format("sequence {}, {} (values/s): 1 thread, 16 threads", name, label), rates[0], rates[1], "1 thr, 16 thr");
  }
}

void Postgres(const std::string& conninfo) {
  auto connect = [&] {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(c));
    return c;
  };
  PGconn* admin = connect();
  PQclear(PQexec(admin, "DROP SEQUENCE IF EXISTS s; CREATE SEQUENCE s; DROP TABLE IF EXISTS counters;"
                        "CREATE TABLE counters(id int PRIMARY KEY, v bigint); INSERT INTO counters VALUES (1, 0)"));
  for (const char* mode : {"nextval()", "locked counter row in a transaction"}) {
    bool locked = std::string(mode) != "nextval()";
    double rates[2];
    int threads[2] = {1, 16};
    for (int k = 0; k < 2; ++k) {
      std::vector<PGconn*> conns;
      for (int t = 0; t < threads[k]; ++t) {
        PGconn* c = connect();
        PQclear(PQprepare(c, "next", locked ? "UPDATE counters SET v = v + 1 WHERE id = 1 RETURNING v" : "SELECT nextval('s')", 0, nullptr));
        conns.push_back(c);
      }
      rates[k] = Measure(threads[k], [&](int t, int64_t) {
        PGconn* c = conns[t];
        if (locked) PQclear(PQexec(c, "BEGIN"));
        PGresult* r = PQexecPrepared(c, "next", 0, nullptr, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) Die(std::string("postgres: ") + PQerrorMessage(c));
        PQclear(r);
        if (locked) PQclear(PQexec(c, "COMMIT"));
      });
      for (PGconn* c : conns) PQfinish(c);
    }
    Report(fmt::format("PostgreSQL 15 {} (values/s): 1 connection, 16", mode), rates[0], rates[1], "1 conn, 16 conns");
  }
  PQfinish(admin);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: odm_bench <mongodb-uri | -> <postgres-conninfo | -> [seconds]");
  if (argc > 3) g_seconds = std::atof(argv[3]);
  Overhead();
  {
    auto client = docket::odm::Client::Open("docket:memory");
    Sequences("embedded in memory", client.Database("bench"));
  }
  {
    auto path = std::filesystem::temp_directory_path() / "docket-odm-bench";
    std::filesystem::remove_all(path);
    {
      auto client = docket::odm::Client::Open("docket:" + path.string());
      Sequences("embedded on disk (j:false)", client.Database("bench"));
    }
    std::filesystem::remove_all(path);
  }
  if (std::string(argv[1]) != "-") {
    auto client = docket::odm::Client::Open(argv[1]);
    client.Database("bench").Drop();
    Sequences("over the wire (docket serve, disk)", client.Database("bench"));
  }
  if (std::string(argv[2]) != "-") Postgres(argv[2]);
  fmt::print("| case | first | second | columns |\n|---|---:|---:|---|\n");
  for (const Row& r : g_rows) fmt::print("| {} | {:.0f} | {:.0f} | {} |\n", r.name, r.a, r.b, r.unit);
  return 0;
}
