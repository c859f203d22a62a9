// A server used as a test fixture lives through thousands of create/drop
// cycles. This measures an unindexed find and an update on a brand-new
// two-document collection when the engine is fresh, and again after N cycles
// of what a test suite does (create a collection, index it, write, read, drop
// it), in memory and on disk. The figures that matter are aged / fresh (1:
// the engine does not slow down with age) and the time of the last tenth of
// the cycles over the first tenth (1: the cycles themselves do not slow down).
//
// Usage: age_bench [cycles=10000] [samples=400] [documents per cycle=0]
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

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 400;
  const int docs = argc > 3 ? std::atoi(argv[3]) : 0;
  std::printf("%-7s %8s %14s %14s %16s %16s %9s %9s %9s\n", "mode", "cycles", "fresh find us", "aged find us",
              "fresh update us", "aged update us", "find x", "update x", "cycle x");
  for (bool memory : {true, false}) {
    const std::string dir = (std::filesystem::temp_directory_path() / "docket-age-bench").string();
    std::filesystem::remove_all(dir);
    auto engine = Check(docket::Engine::Open({.path = dir, .in_memory = memory, .ttl_monitor_seconds = 0}));
    const Latency fresh = Measure(*engine, "fresh", samples);
    const auto churn_start = Clock::now();
    const int tenth = std::max(1, cycles / 10);
    double first_tenth_s = 0, last_tenth_s = 0;
    auto tenth_start = churn_start;
    for (int i = 0; i < cycles; ++i) {
      Cycle(*engine, i, docs);
      if (i + 1 == tenth) first_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
      if (i + 1 == cycles - tenth) tenth_start = Clock::now();
    }
    last_tenth_s = std::chrono::duration<double>(Clock::now() - tenth_start).count();
    const double churn_s = std::chrono::duration<double>(Clock::now() - churn_start).count();
    const Latency aged = Measure(*engine, "aged", samples);
    std::printf("%-7s %8d %14.1f %14.1f %16.1f %16.1f %9.2f %9.2f %9.2f   (%d cycles of %d documents took %.1f s)\n",
                memory ? "memory" : "disk", cycles, fresh.find_us, aged.find_us, fresh.update_us, aged.update_us,
                aged.find_us / fresh.find_us, aged.update_us / fresh.update_us, last_tenth_s / first_tenth_s, cycles,
                docs + 2, churn_s);
    engine.reset();
    std::filesystem::remove_all(dir);
  }
  return 0;
}
