// query_profile: one of the query benchmark's indexed cases, Docket only,
// single-threaded, for perf and for A/B runs of two builds. The database is
// kept in <dir> between runs (loading a million documents takes a minute);
// the first run, or --load, builds it as the side-by-side run does.
//
//   query_profile <dir> <eq-k | eq-v | range | in-k | in-v> [seconds] [--load]
//
// Prints queries per second and the process's CPU microseconds per query
// (user + system, getrusage): the figure to compare across builds, since the
// wall clock on a shared machine also counts other tenants.
#include <fmt/core.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "bench/query_data.h"

namespace {

using namespace docket::bench;
using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::function<size_t(int64_t)> CaseOp(docket::Collection docs, const std::string& name) {
  if (name == "eq-k" || name == "eq-v") {
    const char* field = name == "eq-k" ? "k" : "v";
    return [docs, field](int64_t n) mutable { return DrainDocket(docs.Find(Eq(field, KeyAt(n)))); };
  }
  if (name == "in-k" || name == "in-v") {
    const char* field = name == "in-k" ? "k" : "v";
    return [docs, field](int64_t n) mutable { return DrainDocket(docs.Find(In(field, InValuesAt(n)))); };
  }
  if (name == "range") {
    docket::FindOptions options;
    options.sort = J(R"({"v": 1})");
    options.limit = 10;
    return [docs, options](int64_t n) mutable {
      int64_t x = RangeStartAt(n);
      return DrainDocket(docs.Find(Range("v", x, x + 10000), options));
    };
  }
  Die("unknown case " + name);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: query_profile <dir> <eq-k|eq-v|range|in-k|in-v> [seconds] [--load]");
  const std::string dir = argv[1];
  const std::string name = argv[2];
  const double seconds = argc > 3 ? std::atof(argv[3]) : 5;
  const bool load = (argc > 4 && std::string(argv[4]) == "--load") || !std::filesystem::exists(dir + "/CURRENT");
  std::unique_ptr<docket::Engine> engine = OpenDocket(dir, load);
  WarmDocket(engine.get());
  std::function<size_t(int64_t)> op = CaseOp(engine->collection("bench", "docs"), name);
  for (int64_t i = 1; i <= 20000; ++i) op(-i);  // warm the case's own paths
  fmt::print(stderr, "measuring (pid {})\n", getpid());  // e.g. for perf record -p
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  int64_t n = 0;
  size_t rows = 0;
  double elapsed = 0;
  do {
    rows += op(n++);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  const double cpu = CpuSeconds() - cpu_start;
  fmt::print("{}: {:.0f} queries/s, {:.2f} us CPU per query, {:.2f} rows per query\n", name, n / elapsed, cpu * 1e6 / n,
             static_cast<double>(rows) / n);
  return 0;
}
