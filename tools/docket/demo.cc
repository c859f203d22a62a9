// `docket demo`: the two production bugs from shared/seeds, reproduced on the
// real embedded engine with real threads, then done the Docket way.
#include "tools/docket/demo.h"

#include <fmt/core.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "docket/engine.h"

namespace docket::tools {
namespace {

Document Json(const std::string& json) { return std::move(Document::FromJson(json)).value(); }

std::string IdString(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it)) return "";
  if (BSON_ITER_HOLDS_UTF8(&it)) return bson_iter_utf8(&it, nullptr);
  return std::to_string(bson_iter_as_int64(&it));
}

// Seed 1, wrong: "Prefix" + str(count() + 1) under a lock, insert outside it.
int CountPlusOne(Engine& engine, int threads, int per_thread) {
  Collection models = engine.collection("demo", "mymodel_racy");
  std::mutex lock;
  std::atomic<int> duplicates{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        int64_t n;
        {
          std::lock_guard<std::mutex> guard(lock);  // the seed's lock: it covers count(), not the save
          n = models.CountDocuments(Document()).value() + 1;
        }
        auto r = models.InsertOne(Json(fmt::format(R"({{"_id": "Prefix{}"}})", n)));
        if (!r.ok() && r.status().code() == ErrorCode::kDuplicateKey) duplicates.fetch_add(1);
      }
    });
  }
  for (auto& t : pool) t.join();
  return duplicates.load();
}

// Seed 1, right: an atomic counter document, findOneAndUpdate + $inc + upsert.
bool AtomicCounter(Engine& engine, int threads, int per_thread) {
  Collection counters = engine.collection("demo", "counters");
  Collection models = engine.collection("demo", "mymodel");
  std::atomic<int> errors{0};
  std::vector<std::thread> pool;
  FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = ReturnDocument::kAfter;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        auto counter = counters.FindOneAndUpdate(Json(R"({"_id": "mymodel"})"), Json(R"({"$inc": {"n": 1}})"), options);
        if (!counter.ok() || !*counter) { errors.fetch_add(1); continue; }
        std::string id = "Prefix" + IdString(**counter, "n");
        if (!models.InsertOne(Json(fmt::format(R"({{"_id": "{}"}})", id))).ok()) errors.fetch_add(1);
      }
    });
  }
  for (auto& t : pool) t.join();
  int64_t total = models.CountDocuments(Document()).value();
  fmt::print("  right way: findOneAndUpdate {{$inc}}: {} documents, {} errors, expected {}\n", total, errors.load(),
             threads * per_thread);
  return errors.load() == 0 && total == threads * per_thread;
}

// Seed 2, wrong: a process-wide "current collection" that each request
// switches, then writes through: requests write into each other's branches.
int64_t SwitchCollection(Engine& engine, int threads, int per_thread) {
  std::atomic<int> current_branch{0};  // the global class attribute of switch_collection
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      int my_branch = t % 4;
      for (int i = 0; i < per_thread; ++i) {
        current_branch.store(my_branch);  // with switch_collection(BankAccount, branch):
        std::this_thread::yield();
        Collection accounts = engine.collection("demo", fmt::format("racy_branch{}", current_branch.load()));
        UpdateOptions upsert;
        upsert.upsert = true;
        (void)accounts.UpdateOne(Json(R"({"_id": "acct"})"),
                                 Json(fmt::format(R"({{"$inc": {{"balance": 1, "from_branch{}": 1}}}})", my_branch)),
                                 upsert);
      }
    });
  }
  for (auto& t : pool) t.join();
  int64_t misdirected = 0;
  for (int b = 0; b < 4; ++b) {
    auto doc = engine.collection("demo", fmt::format("racy_branch{}", b)).FindOne(Json(R"({"_id": "acct"})")).value();
    if (!doc) continue;
    for (int other = 0; other < 4; ++other) {
      if (other == b) continue;
      bson_iter_t it;
      if (doc->Find(fmt::format("from_branch{}", other), &it)) misdirected += bson_iter_as_int64(&it);
    }
  }
  return misdirected;
}

// Seed 2, right: a collection handle per use; nothing shared to switch.
bool HandlePerUse(Engine& engine, int threads, int per_thread) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Collection accounts = engine.collection("demo", fmt::format("branch{}", t % 4));
      UpdateOptions upsert;
      upsert.upsert = true;
      for (int i = 0; i < per_thread; ++i) {
        (void)accounts.UpdateOne(Json(R"({"_id": "acct"})"), Json(R"({"$inc": {"balance": 1}})"), upsert);
      }
    });
  }
  for (auto& t : pool) t.join();
  bool ok = true;
  for (int b = 0; b < 4; ++b) {
    int64_t expected = 0;
    for (int t = 0; t < threads; ++t) expected += (t % 4 == b) ? per_thread : 0;
    auto doc = engine.collection("demo", fmt::format("branch{}", b)).FindOne(Json(R"({"_id": "acct"})")).value();
    int64_t balance = 0;
    bson_iter_t it;
    if (doc && doc->Find("balance", &it)) balance = bson_iter_as_int64(&it);
    fmt::print("  right way: branch{} balance {} (sent {})\n", b, balance, expected);
    ok = ok && balance == expected;
  }
  return ok;
}

}  // namespace

int RunDemo(int threads, int per_thread) {
  auto engine = Engine::Open({.path = "", .in_memory = true});
  if (!engine.ok()) {
    fmt::print(stderr, "cannot open engine: {}\n", engine.status().ToString());
    return 1;
  }
  fmt::print("Seed 1: sequential ids, {} threads x {} creates\n", threads, per_thread);
  int duplicates = CountPlusOne(**engine, threads, std::min(per_thread, 100));
  fmt::print("  wrong way: count()+1 under a lock, insert outside it: {} DuplicateKey errors\n", duplicates);
  bool seed1 = AtomicCounter(**engine, threads, per_thread);

  fmt::print("Seed 2: balances per branch collection, {} threads\n", threads);
  int64_t misdirected = SwitchCollection(**engine, threads, std::min(per_thread, 200));
  fmt::print("  wrong way: a shared switchable collection: {} increments landed in another branch\n", misdirected);
  bool seed2 = HandlePerUse(**engine, threads, per_thread);

  fmt::print("{}\n", seed1 && seed2 ? "Docket way: all ids distinct, all balances add up."
                                    : "FAILED: the Docket way did not come out clean.");
  return seed1 && seed2 ? 0 : 1;
}

}  // namespace docket::tools
