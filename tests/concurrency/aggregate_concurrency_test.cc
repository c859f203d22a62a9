// Aggregations read one snapshot: while transfer transactions move money
// between accounts on other threads, every $group over the balances adds up
// to the same total, and every $lookup sees each account exactly once. Also
// runs under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::GetInt;
using testing::J;
using testing::Mode;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kTransfers = 150;
#else
constexpr int kTransfers = 600;
#endif

std::vector<Document> Stages(std::initializer_list<const char*> json) {
  std::vector<Document> out;
  for (const char* j : json) out.push_back(J(j));
  return out;
}

class AggregateConcurrencyTest : public EngineTest {};

TEST_P(AggregateConcurrencyTest, GroupTotalsHoldWhileTransfersRun) {
  Collection accounts = engine_->collection("bank", "accounts");
  constexpr int kAccounts = 12;
  for (int a = 0; a < kAccounts; ++a) {
    ASSERT_TRUE(accounts.InsertOne(J("{\"_id\": " + std::to_string(a) + ", \"branch\": " + std::to_string(a % 3) +
                                     ", \"balance\": 1000}")).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0}, wrong{0};
  std::vector<std::thread> writers, readers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(t + 7);
      for (int i = 0; i < kTransfers; ++i) {
        int from = static_cast<int>(rng() % kAccounts), to = static_cast<int>(rng() % kAccounts);
        int amount = static_cast<int>(rng() % 100);
        Status s = engine_->WithTransaction([&](Transaction& txn) -> Status {
          UpdateOptions options;
          options.write.transaction = &txn;
          auto debit = accounts.UpdateOne(J("{\"_id\": " + std::to_string(from) + "}"),
                                          J("{\"$inc\": {\"balance\": " + std::to_string(-amount) + "}}"), options);
          if (!debit.ok()) return debit.status();
          return accounts.UpdateOne(J("{\"_id\": " + std::to_string(to) + "}"),
                                    J("{\"$inc\": {\"balance\": " + std::to_string(amount) + "}}"), options)
              .status();
        });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      const auto by_branch = Stages({R"({"$group": {"_id": "$branch", "sum": {"$sum": "$balance"}, "n": {"$sum": 1}}})",
                                     R"({"$group": {"_id": null, "total": {"$sum": "$sum"}, "n": {"$sum": "$n"}}})"});
      const auto joined = Stages({R"({"$lookup": {"from": "accounts", "localField": "branch", "foreignField": "branch", "as": "peers"}})",
                                  R"({"$project": {"peers": {"$size": "$peers"}}})",
                                  R"({"$group": {"_id": null, "links": {"$sum": "$peers"}}})"});
      while (!done.load()) {
        auto cursor = accounts.Aggregate(by_branch);
        auto docs = cursor.ok() ? cursor->ToVector() : Result<std::vector<Document>>(cursor.status());
        if (!docs.ok() || docs->size() != 1 || GetInt(docs->front(), "total") != kAccounts * 1000 ||
            GetInt(docs->front(), "n") != kAccounts) {
          wrong.fetch_add(1);
        }
        auto links = accounts.Aggregate(joined);
        auto linked = links.ok() ? links->ToVector() : Result<std::vector<Document>>(links.status());
        // 3 branches of 4 accounts: each account sees the 4 of its branch.
        if (!linked.ok() || linked->size() != 1 || GetInt(linked->front(), "links") != kAccounts * 4) wrong.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0) << "an aggregation saw a half-applied transfer";
  EXPECT_GT(reads.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, AggregateConcurrencyTest, ::testing::Values(Mode::kMemory, Mode::kDisk),
                         testing::ModeName);

}  // namespace
}  // namespace docket
