// The first seed done right: a web-style pool of workers creates documents
// whose ids are "Prefix1", "Prefix2", ... The ids come from a sequence (one
// atomic findAndModify $inc per value, safe from the very first concurrent
// call), not from count() + 1 — which hands two requests the same id as soon
// as they interleave.
//
//   sequential_ids [uri]     (default docket:memory; try mongodb://127.0.0.1:27017/)
//
// Exits 0 when every id is distinct and none is missing.
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "docket/odm.h"

struct MyModel {
  docket::odm::Sequenced<std::string> name;  // the id, filled on insert
  std::string payload;
};
BOOST_DESCRIBE_STRUCT(MyModel, (), (name, payload))
DOCKET_PRIMARY_KEY(MyModel, name)

int main(int argc, char** argv) {
  using namespace docket::odm;
  const std::string uri = argc > 1 ? argv[1] : "docket:memory";
  Client client = Client::Open(uri);
  Database db = client.Database("example_sequential_ids");
  db.Drop();
  // A collection handle that numbers what it inserts: a value, shared freely.
  const auto models = db.Collection<MyModel>("mymodel").WithSequence(&MyModel::name, db.Sequence("mymodel"),
                                                                     SequenceFormat{"Prefix", 0});
  constexpr int kWorkers = 5, kRequests = 200;
  std::mutex mu;
  std::set<std::string> seen;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int r = 0; r < kRequests; ++r) {
        MyModel m;
        m.payload = "request " + std::to_string(r) + " of worker " + std::to_string(w);
        models.InsertOne(m);  // draws the next number, then inserts
        std::lock_guard lock(mu);
        seen.insert(*m.name);
      }
    });
  }
  for (auto& t : workers) t.join();
  const int total = kWorkers * kRequests;
  int missing = 0;
  for (int n = 1; n <= total; ++n) missing += seen.count("Prefix" + std::to_string(n)) ? 0 : 1;
  std::printf("%d workers created %d documents: %zu distinct ids, %d missing, %lld stored\n", kWorkers, total,
              seen.size(), missing, static_cast<long long>(models.Count()));
  db.Drop();
  return seen.size() == static_cast<size_t>(total) && missing == 0 ? 0 : 1;
}
