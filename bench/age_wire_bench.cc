// The age benchmark over the wire: what issue 15 item 4 is about, a
// `docket serve` used as a test fixture through thousands of create/drop
// cycles, measured as a client sees it (libmongoc over loopback).
//
// Two servers that bench/run_age_bench.sh has just started, alike: both get
// a live collection of 1,000 documents compacted to a table file (what a
// fixture holds after its first test); then the first ("aged") runs `cycles`
// test-suite cycles (create a collection with a unique index, insert,
// update, find, drop it) while the second ("fresh") stays as it was. Then an
// unindexed find and an update on a new two-document collection are timed on
// both, alternating between them sample by sample so that the machine's
// noise falls on both alike. Prints one line: the find medians, aged/fresh
// for find and update, and the last tenth of the cycles over the first
// tenth. With cycles = 0 the line is a control: the ratios the two servers
// give when neither has aged.
//
// Usage: age_wire_bench <aged-uri> <fresh-uri> [cycles=10000] [samples=2000]
#include <mongoc/mongoc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "age_wire_bench: %s\n", what);
  std::exit(1);
}

// Runs `command` in `db`; dies on an error or a write error. Returns the reply.
bson_t Run(mongoc_client_t* client, const char* db, bson_t* command) {
  bson_error_t error;
  bson_t reply;
  const bool ok = mongoc_client_command_simple(client, db, command, nullptr, &reply, &error);
  bson_destroy(command);
  if (!ok) Die(error.message);
  bson_iter_t it;
  if (bson_iter_init_find(&it, &reply, "writeErrors")) Die("write error");
  return reply;
}

void RunAndForget(mongoc_client_t* client, const char* db, bson_t* command) {
  bson_t reply = Run(client, db, command);
  bson_destroy(&reply);
}

// The number of documents in the reply's first batch.
int FirstBatchSize(const bson_t& reply) {
  bson_iter_t it, batch;
  if (!bson_iter_init(&it, &reply) || !bson_iter_find_descendant(&it, "cursor.firstBatch", &batch) ||
      !BSON_ITER_HOLDS_ARRAY(&batch)) {
    Die("find reply without cursor.firstBatch");
  }
  bson_iter_t docs;
  bson_iter_recurse(&batch, &docs);
  int n = 0;
  while (bson_iter_next(&docs)) ++n;
  return n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Latency {
  double find_us;
  double update_us;
};

void InsertTwo(mongoc_client_t* client, const char* name) {
  RunAndForget(client, "agebench",
               BCON_NEW("insert", BCON_UTF8(name), "documents", "[", "{", "_id", BCON_INT32(1), "a", BCON_INT32(1),
                        "n", BCON_INT32(0), "}", "{", "_id", BCON_INT32(2), "a", BCON_INT32(2), "n", BCON_INT32(0),
                        "}", "]"));
}

double TimedFind(mongoc_client_t* client, const char* name) {
  const auto start = Clock::now();
  bson_t found = Run(client, "agebench",
                     BCON_NEW("find", BCON_UTF8(name), "filter", "{", "a", BCON_INT32(2), "}", "limit", BCON_INT32(1),
                              "singleBatch", BCON_BOOL(true)));
  const double us = MicrosSince(start);
  if (FirstBatchSize(found) != 1) Die("find did not find its document");
  bson_destroy(&found);
  return us;
}

double TimedUpdate(mongoc_client_t* client, const char* name) {
  const auto start = Clock::now();
  RunAndForget(client, "agebench",
               BCON_NEW("update", BCON_UTF8(name), "updates", "[", "{", "q", "{", "a", BCON_INT32(2), "}", "u", "{",
                        "$inc", "{", "n", BCON_INT32(1), "}", "}", "}", "]"));
  return MicrosSince(start);
}

// The server's own clock for the work it did: serverStatus' opLatencies
// (microseconds summed over the reads and over the writes it served).
struct ServerClock {
  int64_t read_us, write_us;
};

int64_t LatencyMicros(const bson_t& status, const char* path) {
  bson_iter_t it, value;
  if (!bson_iter_init(&it, &status) || !bson_iter_find_descendant(&it, path, &value)) Die("serverStatus lacks opLatencies");
  return bson_iter_as_int64(&value);
}

ServerClock ReadServerClock(mongoc_client_t* client) {
  bson_t status = Run(client, "admin", BCON_NEW("serverStatus", BCON_INT32(1)));
  const ServerClock clock{LatencyMicros(status, "opLatencies.reads.latency"),
                          LatencyMicros(status, "opLatencies.writes.latency")};
  bson_destroy(&status);
  return clock;
}

// The probe: an unindexed find by a field and an update by it on a new
// two-document collection in each server, in batches of kBatch finds and
// kBatch updates, alternating which server goes first. Two figures per
// server: the median round trip, and the median over the batches of the
// server's own time per operation (opLatencies: no network, no wake-up of
// the client), which the machine's scheduling noise touches far less.
constexpr int kBatch = 10;

struct Probe {
  Latency round_trip;  // medians of single operations, client's clock
  Latency served;      // medians over batches of the server's time per operation
};

struct ProbeSamples {
  std::vector<double> finds, updates, served_finds, served_updates;
  Probe Summary() const {
    return {{Median(finds), Median(updates)}, {Median(served_finds), Median(served_updates)}};
  }
};

void ProbeBatch(mongoc_client_t* client, const char* name, ProbeSamples& samples) {
  const ServerClock before = ReadServerClock(client);
  for (int i = 0; i < kBatch; ++i) samples.finds.push_back(TimedFind(client, name));
  for (int i = 0; i < kBatch; ++i) samples.updates.push_back(TimedUpdate(client, name));
  const ServerClock after = ReadServerClock(client);
  samples.served_finds.push_back(static_cast<double>(after.read_us - before.read_us) / kBatch);
  samples.served_updates.push_back(static_cast<double>(after.write_us - before.write_us) / kBatch);
}

std::pair<Probe, Probe> MeasurePaired(mongoc_client_t* aged, mongoc_client_t* fresh, int samples) {
  const char* name = "probe";
  InsertTwo(aged, name);
  InsertTwo(fresh, name);
  ProbeSamples aged_samples, fresh_samples;
  for (int batch = 0; batch * kBatch < samples; ++batch) {
    if (batch % 2 == 0) {
      ProbeBatch(aged, name, aged_samples);
      ProbeBatch(fresh, name, fresh_samples);
    } else {
      ProbeBatch(fresh, name, fresh_samples);
      ProbeBatch(aged, name, aged_samples);
    }
  }
  RunAndForget(aged, "agebench", BCON_NEW("drop", BCON_UTF8(name)));
  RunAndForget(fresh, "agebench", BCON_NEW("drop", BCON_UTF8(name)));
  return {aged_samples.Summary(), fresh_samples.Summary()};
}

// One test's worth of catalog churn, as age_bench's Cycle does it embedded.
void Cycle(mongoc_client_t* client, int i) {
  const std::string name = "t" + std::to_string(i);
  RunAndForget(client, "suite",
               BCON_NEW("createIndexes", BCON_UTF8(name.c_str()), "indexes", "[", "{", "key", "{", "email",
                        BCON_INT32(1), "}", "name", BCON_UTF8("email_1"), "unique", BCON_BOOL(true), "}", "]"));
  RunAndForget(client, "suite",
               BCON_NEW("insert", BCON_UTF8(name.c_str()), "documents", "[", "{", "email", BCON_UTF8("a@x"), "n",
                        BCON_INT32(1), "}", "{", "email", BCON_UTF8("b@x"), "n", BCON_INT32(2), "}", "]"));
  RunAndForget(client, "suite",
               BCON_NEW("update", BCON_UTF8(name.c_str()), "updates", "[", "{", "q", "{", "email", BCON_UTF8("a@x"),
                        "}", "u", "{", "$inc", "{", "n", BCON_INT32(1), "}", "}", "}", "]"));
  bson_t found = Run(client, "suite",
                     BCON_NEW("find", BCON_UTF8(name.c_str()), "filter", "{", "n", BCON_INT32(2), "}", "limit",
                              BCON_INT32(1), "singleBatch", BCON_BOOL(true)));
  if (FirstBatchSize(found) != 1) Die("cycle's find did not find its document");
  bson_destroy(&found);
  RunAndForget(client, "suite", BCON_NEW("drop", BCON_UTF8(name.c_str())));
}

// The live collection a fixture holds after its first test: 1,000 documents,
// compacted to a table file.
void LoadLiveCollection(mongoc_client_t* client) {
  const std::string pad(100, 'k');
  bson_t command, docs;
  bson_init(&command);
  BSON_APPEND_UTF8(&command, "insert", "keep");
  BSON_APPEND_ARRAY_BEGIN(&command, "documents", &docs);
  for (int i = 0; i < 1000; ++i) {
    bson_t doc;
    const std::string key = std::to_string(i);
    BSON_APPEND_DOCUMENT_BEGIN(&docs, key.c_str(), &doc);
    BSON_APPEND_INT32(&doc, "k", i);
    BSON_APPEND_UTF8(&doc, "pad", pad.c_str());
    bson_append_document_end(&docs, &doc);
  }
  bson_append_array_end(&command, &docs);
  RunAndForget(client, "app", bson_copy(&command));
  bson_destroy(&command);
  RunAndForget(client, "app", BCON_NEW("compact", BCON_UTF8("keep")));
}

}  // namespace

mongoc_client_t* Connect(const char* uri) {
  mongoc_client_t* client = mongoc_client_new(uri);
  if (client == nullptr) Die("bad URI");
  return client;
}

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: age_wire_bench <aged-uri> <fresh-uri> [cycles=10000] [samples=2000]");
  const int cycles = argc > 3 ? std::atoi(argv[3]) : 10000;
  const int samples = argc > 4 ? std::max(1, std::atoi(argv[4])) : 2000;
  mongoc_init();
  mongoc_client_t* aged = Connect(argv[1]);
  mongoc_client_t* fresh = Connect(argv[2]);
  LoadLiveCollection(aged);
  LoadLiveCollection(fresh);

  const int tenth = std::max(1, cycles / 10);
  double first_tenth_s = 0;
  auto tenth_start = Clock::now();
  const auto churn_start = tenth_start;
  for (int i = 0; i < cycles; ++i) {
    Cycle(aged, i);
    if (i + 1 == tenth) first_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
    if (i + 1 == cycles - tenth) tenth_start = Clock::now();
  }
  const double last_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
  const double churn_s = std::chrono::duration<double>(Clock::now() - churn_start).count();
  const auto [aged_probe, fresh_probe] = MeasurePaired(aged, fresh, samples);

  // fresh/aged find round trip (us), their ratios for find and update; the
  // same from the server's clock; then cycle x and the churn's seconds.
  std::printf("%7.1f %7.1f %7.3f %7.3f   %7.2f %7.2f %7.3f %7.3f   %7.2f %7.1f\n", fresh_probe.round_trip.find_us,
              aged_probe.round_trip.find_us, aged_probe.round_trip.find_us / fresh_probe.round_trip.find_us,
              aged_probe.round_trip.update_us / fresh_probe.round_trip.update_us, fresh_probe.served.find_us,
              aged_probe.served.find_us, aged_probe.served.find_us / fresh_probe.served.find_us,
              aged_probe.served.update_us / fresh_probe.served.update_us,
              first_tenth_s > 0 ? last_tenth_s / first_tenth_s : 0.0, churn_s);
  mongoc_client_destroy(aged);
  mongoc_client_destroy(fresh);
  mongoc_cleanup();
  return 0;
}
