// Child process of crash_test: writes until killed, with j:true ("journal")
// or the default j:false ("nojournal"). After each acknowledged write it
// prints the counter value on stdout, so the parent knows exactly what was
// acknowledged before the SIGKILL.
//
//   crash_writer <dir> journal|nojournal
#include <cstdio>
#include <string>

#include "docket/engine.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const bool journal = std::string(argv[2]) == "journal";
  auto engine = docket::Engine::Open({.path = argv[1], .in_memory = false});
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  docket::Collection counters = (*engine)->collection("crash", "counters");
  docket::Collection items = (*engine)->collection("crash", "items");
  docket::FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = docket::ReturnDocument::kAfter;
  options.write.write_concern.journal = journal;
  docket::WriteOptions journaled;
  journaled.write_concern.journal = journal;
  auto inc = *docket::Document::FromJson(R"({"$inc": {"n": 1}})");
  auto filter = *docket::Document::FromJson(R"({"_id": "items"})");
  while (true) {
    auto counter = counters.FindOneAndUpdate(filter, inc, options);
    if (!counter.ok() || !*counter) return 1;
    bson_iter_t it;
    (*counter)->Find("n", &it);
    int64_t n = bson_iter_as_int64(&it);
    std::string doc = "{\"_id\": " + std::to_string(n) + ", \"payload\": \"item-" + std::to_string(n) +
                      "-" + std::string(static_cast<size_t>(n % 200), 'x') + "\"}";
    auto r = items.InsertOne(*docket::Document::FromJson(doc), journaled);
    if (!r.ok()) {
      std::fprintf(stderr, "insert %lld: %s\n", static_cast<long long>(n), r.status().ToString().c_str());
      return 1;
    }
    std::printf("%lld\n", static_cast<long long>(n));
    std::fflush(stdout);
  }
}
