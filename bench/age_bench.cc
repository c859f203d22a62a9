// A server used as a test fixture lives through thousands of create/drop
// cycles. This measures an unindexed find and an update on a brand-new
// two-document collection when the engine is fresh, and again after N cycles
// of what a test suite does (create a collection, index it, write, read, drop
// it), in memory and on disk.
//
// Two references for "fresh": the engine just created and still empty, and
// the same engine once it holds a live collection of 1,000 documents written
// to a table file (Engine::Compact, which works in memory too) — what a fixture server
// holds after its first test. Against the empty engine the aged one also pays
// for having data at all (a larger memtable, a table level to merge), which
// is not age. The figures that matter are aged / fresh (1: the engine does
// not slow down with age) and the time of the last tenth of the cycles over
// the first tenth (1: the cycles themselves do not slow down). Each mode runs
// `rounds` times in new engines; the ratios printed are the medians.
//
// Usage: age_bench [cycles=10000] [samples=400] [documents per cycle=0] [rounds=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;

docket::Document Json(const std::string& json) {
  auto doc = docket::Document::FromJson(json);
  if (!doc.ok()) std::abort();
  return *doc;
}

template <typename T>
T Check(docket::Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "age_bench: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

void Check(const docket::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "age_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

struct Latency {
  double find_us;    // median of an unindexed find by a field
  double update_us;  // median of an update by that field
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Both operations on a fresh two-document collection, `samples` times each.
Latency Measure(docket::Engine& engine, const std::string& name, int samples) {
  docket::Collection c = engine.collection("agebench", name);
  Check(c.InsertMany({Json(R"({"_id": 1, "a": 1, "n": 0})"), Json(R"({"_id": 2, "a": 2, "n": 0})")}));
  const docket::Document filter = Json(R"({"a": 2})");
  const docket::Document inc = Json(R"({"$inc": {"n": 1}})");
  std::vector<double> finds, updates;
  for (int i = 0; i < samples; ++i) {
    auto start = Clock::now();
    auto found = Check(c.FindOne(filter));
    finds.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (!found) std::abort();
    start = Clock::now();
    auto updated = Check(c.UpdateOne(filter, inc));
    updates.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (updated.modified_count != 1) std::abort();
  }
  Check(engine.DropCollection("agebench", name));
  return {Median(finds), Median(updates)};
}

// One test's worth of catalog churn: `docs` more documents of ~250 bytes.
void Cycle(docket::Engine& engine, int i, int docs) {
  const std::string name = "t" + std::to_string(i);
  docket::Collection c = engine.collection("suite", name);
  Check(c.CreateIndex(Json(R"({"email": 1})"), /*unique=*/true));
  std::vector<docket::Document> batch = {Json(R"({"email": "a@x", "n": 1})"), Json(R"({"email": "b@x", "n": 2})")};
  for (int j = 0; j < docs; ++j) {
    batch.push_back(Json("{\"email\": \"" + std::to_string(j) + "@y\", \"pad\": \"" + std::string(200, 'x') + "\"}"));
  }
  Check(c.InsertMany(batch));
  Check(c.UpdateOne(Json(R"({"email": "a@x"})"), Json(R"({"$inc": {"n": 1}})")));
  if (!Check(c.FindOne(Json(R"({"n": 2})")))) std::abort();
  Check(engine.DropCollection("suite", name));
}

}  // namespace

struct Round {
  Latency empty, with_data, aged;
  double cycle_ratio;  // last tenth of the cycles over the first tenth
  double churn_s;
};

Round RunRound(bool memory, int cycles, int samples, int docs) {
  const std::string dir = (std::filesystem::temp_directory_path() / "docket-age-bench").string();
  std::filesystem::remove_all(dir);
  auto engine = Check(docket::Engine::Open({.path = dir, .in_memory = memory, .ttl_monitor_seconds = 0}));
  Round round{};
  round.empty = Measure(*engine, "empty", samples);
  docket::Collection keep = engine->collection("app", "keep");
  std::vector<docket::Document> live;
  for (int i = 0; i < 1000; ++i) live.push_back(Json("{\"k\": " + std::to_string(i) + ", \"pad\": \"" + std::string(100, 'k') + "\"}"));
  Check(keep.InsertMany(live));
  Check(engine->Compact());
  round.with_data = Measure(*engine, "fresh", samples);
  const auto churn_start = Clock::now();
  const int tenth = std::max(1, cycles / 10);
  double first_tenth_s = 0;
  auto tenth_start = churn_start;
  for (int i = 0; i < cycles; ++i) {
    Cycle(*engine, i, docs);
    if (i + 1 == tenth) first_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
    if (i + 1 == cycles - tenth) tenth_start = Clock::now();
  }
  const double last_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
  round.churn_s = std::chrono::duration<double>(Clock::now() - churn_start).count();
  round.cycle_ratio = first_tenth_s > 0 ? last_tenth_s / first_tenth_s : 0;
  round.aged = Measure(*engine, "aged", samples);
  engine.reset();
  std::filesystem::remove_all(dir);
  return round;
}

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 400;
  const int docs = argc > 3 ? std::atoi(argv[3]) : 0;
  const int rounds = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  std::printf("%-7s %7s %9s %9s %9s %9s %10s %10s %10s %8s %8s\n", "mode", "cycles", "empty us", "fresh us",
              "aged us", "find x", "update x", "find x/e", "update x/e", "cycle x", "churn s");
  for (bool memory : {true, false}) {
    std::vector<double> find_x, update_x, find_xe, update_xe, cycle_x, churn, empty_us, fresh_us, aged_us;
    for (int r = 0; r < rounds; ++r) {
      const Round round = RunRound(memory, cycles, samples, docs);
      find_x.push_back(round.aged.find_us / round.with_data.find_us);
      update_x.push_back(round.aged.update_us / round.with_data.update_us);
      find_xe.push_back(round.aged.find_us / round.empty.find_us);
      update_xe.push_back(round.aged.update_us / round.empty.update_us);
      cycle_x.push_back(round.cycle_ratio);
      churn.push_back(round.churn_s);
      empty_us.push_back(round.empty.find_us);
      fresh_us.push_back(round.with_data.find_us);
      aged_us.push_back(round.aged.find_us);
    }
    std::printf("%-7s %7d %9.2f %9.2f %9.2f %9.2f %10.2f %10.2f %10.2f %8.2f %8.1f   (%d rounds of %d cycles of %d documents)\n",
                memory ? "memory" : "disk", cycles, Median(empty_us), Median(fresh_us), Median(aged_us),
                Median(find_x), Median(update_x), Median(find_xe), Median(update_xe), Median(cycle_x), Median(churn),
                rounds, cycles, docs + 2);
  }
  return 0;
}
