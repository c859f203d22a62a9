// What operator tooling costs the work it watches, against `docket serve`
// over loopback (libmongoc; bench/run_ops_bench.sh starts the server):
//
//   1. the profiler: find-by-_id throughput of one client at profiling
//      level 0, level 1 (slowms 100: nothing is slow enough to record) and
//      level 2 (every operation written to system.profile), in alternating
//      rounds, as ratios to level 0;
//   2. writes during an index build: one client inserting into a collection
//      of `documents` documents, alone, then while another client builds an
//      index on it — {a: 1}, built while writers run, and {u: 1} unique,
//      built with the collection held — with the inserts' throughput during
//      the build and their slowest latency.
//
// Usage: ops_bench <uri> [seconds=2] [rounds=3] [documents=1000000]
#include <mongoc/mongoc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
std::string g_uri;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ops_bench: %s\n", what.c_str());
  std::exit(1);
}

void Run(mongoc_client_t* client, const char* db, bson_t* command) {
  bson_error_t error;
  bson_t reply;
  const bool ok = mongoc_client_command_simple(client, db, command, nullptr, &reply, &error);
  bson_destroy(command);
  bson_iter_t it;
  const bool write_error = ok && bson_iter_init_find(&it, &reply, "writeErrors");
  bson_destroy(&reply);
  if (!ok) Die(error.message);
  if (write_error) Die("write error");
}

// A drop that may find nothing to drop.
void Drop(mongoc_client_t* client, const char* collection) {
  bson_t* command = BCON_NEW("drop", BCON_UTF8(collection));
  (void)mongoc_client_command_simple(client, "opsbench", command, nullptr, nullptr, nullptr);
  bson_destroy(command);
}

mongoc_client_t* Connect() {
  mongoc_client_t* client = mongoc_client_new(g_uri.c_str());
  if (client == nullptr) Die("bad URI");
  return client;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// find {_id: k} for `seconds`; operations per second.
double FindRate(mongoc_client_t* client, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  int64_t n = 0;
  while (Clock::now() < end) {
    Run(client, "opsbench",
        BCON_NEW("find", BCON_UTF8("small"), "filter", "{", "_id", BCON_INT32(static_cast<int32_t>(n % 1000)), "}",
                 "limit", BCON_INT32(1), "singleBatch", BCON_BOOL(true)));
    ++n;
  }
  return static_cast<double>(n) / seconds;
}

void Profiler(double seconds, int rounds) {
  mongoc_client_t* client = Connect();
  Drop(client, "small");
  bson_t command, docs;
  bson_init(&command);
  BSON_APPEND_UTF8(&command, "insert", "small");
  BSON_APPEND_ARRAY_BEGIN(&command, "documents", &docs);
  for (int i = 0; i < 1000; ++i) {
    bson_t doc;
    const std::string key = std::to_string(i);
    BSON_APPEND_DOCUMENT_BEGIN(&docs, key.c_str(), &doc);
    BSON_APPEND_INT32(&doc, "_id", i);
    BSON_APPEND_UTF8(&doc, "name", "user");
    bson_append_document_end(&docs, &doc);
  }
  bson_append_array_end(&command, &docs);
  Run(client, "opsbench", bson_copy(&command));
  bson_destroy(&command);
  std::vector<double> level0, level1, level2;
  for (int r = 0; r < rounds; ++r) {
    Run(client, "opsbench", BCON_NEW("profile", BCON_INT32(0)));
    level0.push_back(FindRate(client, seconds));
    Run(client, "opsbench", BCON_NEW("profile", BCON_INT32(1), "slowms", BCON_INT32(100)));
    level1.push_back(FindRate(client, seconds));
    Run(client, "opsbench", BCON_NEW("profile", BCON_INT32(2)));
    level2.push_back(FindRate(client, seconds));
  }
  Run(client, "opsbench", BCON_NEW("profile", BCON_INT32(0)));
  const double base = Median(level0);
  std::printf("| profiler level | finds/s (median of %d) | vs level 0 |\n|---|---:|---:|\n", rounds);
  std::printf("| 0 | %.0f | 1.00 |\n", base);
  std::printf("| 1 (slowms 100: nothing recorded) | %.0f | %.2f |\n", Median(level1), Median(level1) / base);
  std::printf("| 2 (every operation recorded) | %.0f | %.2f |\n", Median(level2), Median(level2) / base);
  mongoc_client_destroy(client);
}

void Load(int64_t documents) {
  mongoc_client_t* client = Connect();
  Drop(client, "big");
  const std::string pad(60, 'p');
  for (int64_t base = 0; base < documents; base += 1000) {
    bson_t command, docs;
    bson_init(&command);
    BSON_APPEND_UTF8(&command, "insert", "big");
    BSON_APPEND_ARRAY_BEGIN(&command, "documents", &docs);
    for (int64_t i = base; i < std::min(documents, base + 1000); ++i) {
      bson_t doc;
      const std::string key = std::to_string(i - base);
      BSON_APPEND_DOCUMENT_BEGIN(&docs, key.c_str(), &doc);
      BSON_APPEND_INT64(&doc, "_id", i);
      BSON_APPEND_INT64(&doc, "a", i % 1000);
      BSON_APPEND_INT64(&doc, "u", i);
      BSON_APPEND_UTF8(&doc, "pad", pad.c_str());
      bson_append_document_end(&docs, &doc);
    }
    bson_append_array_end(&command, &docs);
    Run(client, "opsbench", bson_copy(&command));
    bson_destroy(&command);
  }
  mongoc_client_destroy(client);
}

struct Writes {
  double per_second = 0;
  double slowest_ms = 0;
};

// Inserts from one client until `stop`; ids from `next_id` up.
Writes InsertUntil(const std::atomic<bool>& stop, int64_t next_id) {
  mongoc_client_t* client = Connect();
  const auto start = Clock::now();
  int64_t n = 0;
  double slowest = 0;
  while (!stop.load()) {
    const auto t = Clock::now();
    Run(client, "opsbench",
        BCON_NEW("insert", BCON_UTF8("big"), "documents", "[", "{", "_id", BCON_INT64(next_id + n), "a",
                 BCON_INT64(n % 1000), "u", BCON_INT64(next_id + n), "}", "]"));
    slowest = std::max(slowest, std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    ++n;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  mongoc_client_destroy(client);
  return {static_cast<double>(n) / elapsed, slowest};
}

void WritesDuringBuilds(double seconds, int64_t documents) {
  const auto load_start = Clock::now();
  Load(documents);
  std::fprintf(stderr, "ops_bench: loaded %lld documents in %.1f s\n", static_cast<long long>(documents),
               std::chrono::duration<double>(Clock::now() - load_start).count());
  int64_t next_id = documents;
  std::atomic<bool> stop{false};
  Writes alone;
  {
    std::thread timer([&] {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      stop = true;
    });
    alone = InsertUntil(stop, next_id);
    timer.join();
    next_id += 10'000'000;
  }
  std::printf("\n| index built | build s | inserts/s during it | vs no build | slowest insert ms |\n"
              "|---|---:|---:|---:|---:|\n");
  std::printf("| (none: inserts alone) | - | %.0f | 1.00 | %.1f |\n", alone.per_second, alone.slowest_ms);
  struct Case {
    const char* label;
    const char* field;
    bool unique;
  };
  for (const Case& c : {Case{"{a: 1}, writers run", "a", false}, Case{"{u: 1} unique, collection held", "u", true}}) {
    stop = false;
    Writes during;
    std::thread writer([&] { during = InsertUntil(stop, next_id); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the writer is under way
    mongoc_client_t* client = Connect();
    const auto start = Clock::now();
    Run(client, "opsbench",
        BCON_NEW("createIndexes", BCON_UTF8("big"), "indexes", "[", "{", "key", "{", c.field, BCON_INT32(1), "}", "name",
                 BCON_UTF8(c.field), "unique", BCON_BOOL(c.unique), "}", "]"));
    const double build_s = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    writer.join();
    next_id += 10'000'000;
    Run(client, "opsbench", BCON_NEW("dropIndexes", BCON_UTF8("big"), "index", BCON_UTF8(c.field)));
    mongoc_client_destroy(client);
    std::printf("| %s | %.1f | %.0f | %.2f | %.1f |\n", c.label, build_s, during.per_second,
                during.per_second / alone.per_second, during.slowest_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: ops_bench <uri> [seconds=2] [rounds=3] [documents=1000000]");
  g_uri = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const int64_t documents = argc > 4 ? std::atoll(argv[4]) : 1'000'000;
  mongoc_init();
  Profiler(seconds, rounds);
  WritesDuringBuilds(seconds, documents);
  mongoc_cleanup();
  return 0;
}
