#include <CLI/CLI.hpp>

#include "tools/docket/demo.h"

int main(int argc, char** argv) {
  CLI::App app{"docket: a document database with MongoDB semantics"};
  app.require_subcommand(1);
  auto* demo = app.add_subcommand("demo", "run the two seed scenarios on the embedded engine");
  int threads = 16, per_thread = 1000;
  demo->add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256));
  demo->add_option("--per-thread", per_thread, "creates per thread")->check(CLI::Range(1, 1000000));
  CLI11_PARSE(app, argc, argv);
  if (*demo) return docket::tools::RunDemo(threads, per_thread);
  return 0;
}
