// The two seeds, on the real engine with real threads. These also run under
// ThreadSanitizer (the tsan preset) in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::GetInt;
using testing::J;
using testing::Mode;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kPerThread = 250;  // sanitizers slow everything ~10x
#else
constexpr int kPerThread = 1000;
#endif
constexpr int kThreads = 16;

class SeedTest : public EngineTest {};

// Seed 1 done right: an atomic counter. Exactly N documents, Prefix1..PrefixN.
TEST_P(SeedTest, AtomicCounterGivesDistinctGaplessIds) {
  Collection counters = engine_->collection("app", "counters");
  Collection models = engine_->collection("app", "mymodel");
  std::atomic<int> errors{0};
  FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = ReturnDocument::kAfter;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto counter = counters.FindOneAndUpdate(J(R"({"_id": "mymodel"})"), J(R"({"$inc": {"n": 1}})"), options);
        if (!counter.ok() || !*counter) {
          errors.fetch_add(1);
          continue;
        }
        std::string id = "Prefix" + std::to_string(GetInt(**counter, "n"));
        if (!models.InsertOne(J("{\"_id\": \"" + id + "\"}")).ok()) errors.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const int total = kThreads * kPerThread;
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(*models.CountDocuments(Document()), total);
  for (int n = 1; n <= total; ++n) {
    ASSERT_EQ(*models.CountDocuments(J("{\"_id\": \"Prefix" + std::to_string(n) + "\"}")), 1) << n;
  }
  EXPECT_EQ(GetInt(**counters.FindOne(J(R"({"_id": "mymodel"})")), "n"), total);
}

// The same counter with j:true: on disk every acknowledgement waits for a
// shared fsync (group commit, with the row lock already released), which
// must neither lose an increment nor hang.
TEST_P(SeedTest, JournaledCounterUnderGroupCommit) {
  Collection counters = engine_->collection("app", "counters");
  FindAndModifyOptions options;
  options.upsert = true;
  options.return_document = ReturnDocument::kAfter;
  options.write.write_concern.journal = true;
  constexpr int kEach = kPerThread / 5;
  std::atomic<int> errors{0};
  std::vector<std::vector<int64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto counter = counters.FindOneAndUpdate(J(R"({"_id": "journaled"})"), J(R"({"$inc": {"n": 1}})"), options);
        if (!counter.ok() || !*counter) {
          errors.fetch_add(1);
          continue;
        }
        seen[t].push_back(GetInt(**counter, "n"));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<int64_t> all;
  for (const auto& values : seen) all.insert(values.begin(), values.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach)) << "two callers saw the same value";
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
  EXPECT_EQ(GetInt(**counters.FindOne(J(R"({"_id": "journaled"})")), "n"), kThreads * kEach);
}

// Seed 1 done wrong: count()+1 under a lock, insert outside it. The engine
// really interleaves, so this must collide (a fake never did).
TEST_P(SeedTest, CountPlusOneCollidesUnderRealConcurrency) {
  Collection models = engine_->collection("app", "mymodel");
  std::mutex lock;
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        int64_t n;
        {
          std::lock_guard<std::mutex> guard(lock);
          n = *models.CountDocuments(Document()) + 1;
        }
        auto r = models.InsertOne(J("{\"_id\": \"Prefix" + std::to_string(n) + "\"}"));
        if (r.status().code() == ErrorCode::kDuplicateKey) duplicates.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(duplicates.load(), 0) << "count()+1 never collided: the engine did not interleave";
  // And the collisions are the only way ids went missing: no document is lost or doubled.
  EXPECT_EQ(*models.CountDocuments(Document()), kThreads * 100 - duplicates.load());
}

// Seed 2 done right: one handle per branch collection; every total adds up.
TEST_P(SeedTest, BranchBalancesAddUpUnderConcurrentIncrements) {
  constexpr int kBranches = 8;
  constexpr int kAccounts = 5;
  std::vector<std::atomic<int64_t>> sent(kBranches);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        int branch = static_cast<int>(rng() % kBranches);
        int account = static_cast<int>(rng() % kAccounts);
        int amount = static_cast<int>(rng() % 100) + 1;
        Collection accounts = engine_->collection("bank", "branch" + std::to_string(branch));
        UpdateOptions upsert;
        upsert.upsert = true;
        auto r = accounts.UpdateOne(J("{\"_id\": " + std::to_string(account) + "}"),
                                    J("{\"$inc\": {\"balance\": " + std::to_string(amount) + "}}"), upsert);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        sent[branch].fetch_add(amount);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int b = 0; b < kBranches; ++b) {
    auto docs = engine_->collection("bank", "branch" + std::to_string(b)).Find(Document())->ToVector();
    ASSERT_TRUE(docs.ok());
    int64_t total = 0;
    for (const Document& d : *docs) total += GetInt(d, "balance");
    EXPECT_EQ(total, sent[b].load()) << "branch " << b;
  }
}

// Transfers between accounts in transactions: money is neither made nor lost.
TEST_P(SeedTest, TransactionalTransfersConserveTheTotal) {
  Collection accounts = engine_->collection("bank", "accounts");
  constexpr int kAccounts = 10;
  for (int a = 0; a < kAccounts; ++a) {
    ASSERT_TRUE(accounts.InsertOne(J("{\"_id\": " + std::to_string(a) + ", \"balance\": 1000}")).ok());
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 100);
      for (int i = 0; i < kPerThread / 10; ++i) {
        int from = static_cast<int>(rng() % kAccounts), to = static_cast<int>(rng() % kAccounts);
        int amount = static_cast<int>(rng() % 50);
        Status s = engine_->WithTransaction([&](Transaction& txn) -> Status {
          UpdateOptions options;
          options.write.transaction = &txn;
          auto debit = accounts.UpdateOne(J("{\"_id\": " + std::to_string(from) + "}"),
                                          J("{\"$inc\": {\"balance\": " + std::to_string(-amount) + "}}"), options);
          if (!debit.ok()) return debit.status();
          auto credit = accounts.UpdateOne(J("{\"_id\": " + std::to_string(to) + "}"),
                                           J("{\"$inc\": {\"balance\": " + std::to_string(amount) + "}}"), options);
          return credit.status();
        });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t total = 0;
  for (const Document& d : *accounts.Find(Document())->ToVector()) total += GetInt(d, "balance");
  EXPECT_EQ(total, kAccounts * 1000);
}

// One hot document written every way at once: single updates and
// findAndModify (which queue for it, key_queue.h), transactions that start
// on it (which wait for its row lock) and transactions that reach it second
// (which conflict and retry). Every acknowledged increment is counted once.
TEST_P(SeedTest, HotDocumentUnderMixedWritersCountsEveryIncrement) {
  Collection c = engine_->collection("app", "hot");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": "hot", "n": 0})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": "other", "n": 0})")).ok());
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int> failures{0};
  const Document hot = J(R"({"_id": "hot"})");
  const Document other = J(R"({"_id": "other"})");
  const Document inc = J(R"({"$inc": {"n": 1}})");
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread / 5; ++i) {
        Status s;
        switch (t % 4) {
          case 0:
            s = c.UpdateOne(hot, inc).status();
            break;
          case 1: {
            FindAndModifyOptions options;
            options.return_document = ReturnDocument::kAfter;
            s = c.FindOneAndUpdate(hot, inc, options).status();
            break;
          }
          default:
            // t % 4 == 2: the hot document first; 3: the other one first.
            s = engine_->WithTransaction([&](Transaction& txn) -> Status {
              UpdateOptions options;
              options.write.transaction = &txn;
              const Document& first = t % 4 == 2 ? hot : other;
              const Document& second = t % 4 == 2 ? other : hot;
              DOCKET_RETURN_IF_ERROR(c.UpdateOne(first, inc, options).status());
              return c.UpdateOne(second, inc, options).status();
            }, WriteConcern(), /*max_attempts=*/10000);  // the second kind may lose many races in a row
        }
        if (s.ok()) acknowledged.fetch_add(1);
        else failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(acknowledged.load(), 12 * (kPerThread / 5));
  EXPECT_EQ(GetInt(**c.FindOne(hot), "n"), acknowledged.load());
  EXPECT_EQ(GetInt(**c.FindOne(other), "n"), 6 * (kPerThread / 5));
}

INSTANTIATE_TEST_SUITE_P(Modes, SeedTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
