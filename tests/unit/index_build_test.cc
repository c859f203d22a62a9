// Index builds that let writers run (engine/index_build.h): writes complete
// while a build is in progress (seen through IndexStats' `building`), and
// whatever the writers did meanwhile — inserts, updates that move keys,
// arrays that make the index multikey, deletes — the finished index holds
// exactly the entries of the documents (validate: no missing or extra
// entry), and a query through it answers as a collection scan does. A build
// that fails leaves no index and no entry behind; a unique index still
// refuses duplicates.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::IdsOf;
using testing::J;

class IndexBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = "", .in_memory = true, .ttl_monitor_seconds = 0});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  Collection c() { return engine_->collection("db", "c"); }

  void Load(int n) {
    std::vector<Document> docs;
    for (int i = 0; i < n; ++i) {
      docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"a\": " + std::to_string(i % 97) + "}"));
      if (docs.size() == 1000) {
        ASSERT_TRUE(c().InsertMany(docs).ok());
        docs.clear();
      }
    }
    if (!docs.empty()) ASSERT_TRUE(c().InsertMany(docs).ok());
  }

  bool Building(const std::string& name) {
    auto stats = c().IndexStats();
    if (!stats.ok()) return false;
    for (const IndexUsage& u : *stats) {
      if (u.name == name) return u.building;
    }
    return false;
  }

  std::vector<int64_t> Ids(const Document& filter, const IndexHint& hint) {
    FindOptions options;
    options.hint = hint;
    options.sort = J(R"({"_id": 1})");
    auto cursor = c().Find(filter, options);
    EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
    if (!cursor.ok()) return {};
    auto docs = cursor->ToVector();
    EXPECT_TRUE(docs.ok());
    return docs.ok() ? IdsOf(*docs) : std::vector<int64_t>{};
  }

  std::unique_ptr<Engine> engine_;
};

// The writers' random work: inserts (some with arrays), updates that move
// `a` or make it an array, deletes. Counts what completed while `a_1` was
// being built.
TEST_F(IndexBuildTest, WritersRunDuringTheBuildAndTheIndexEndsExact) {
  int size = 20000;
  int during = 0;
  for (int attempt = 0; attempt < 4 && during == 0; ++attempt, size *= 2) {
    (void)engine_->DropCollection("db", "c");  // the previous attempt's, if any
    Load(size);
    std::atomic<bool> done{false};
    std::atomic<int> writes_during{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t) {
      writers.emplace_back([&, t] {
        std::mt19937 rng(t + 7 * attempt);
        int next_id = 1'000'000 * (t + 1);
        while (!done.load()) {
          const bool before = Building("a_1");
          const int id = static_cast<int>(rng() % static_cast<unsigned>(size));
          Status s;
          switch (rng() % 5) {
            case 0:
              s = c().InsertOne(J("{\"_id\": " + std::to_string(next_id++) + ", \"a\": " + std::to_string(rng() % 97) +
                                  "}")).status();
              break;
            case 1:
              s = c().InsertOne(J("{\"_id\": " + std::to_string(next_id++) + ", \"a\": [1, 2, " +
                                  std::to_string(rng() % 97) + "]}")).status();
              break;
            case 2:
              s = c().UpdateOne(J("{\"_id\": " + std::to_string(id) + "}"),
                                J("{\"$set\": {\"a\": " + std::to_string(rng() % 97) + "}}")).status();
              break;
            case 3:
              s = c().UpdateOne(J("{\"_id\": " + std::to_string(id) + "}"), J(R"({"$set": {"a": [5, 6]}})")).status();
              break;
            default:
              s = c().DeleteOne(J("{\"_id\": " + std::to_string(id) + "}")).status();
          }
          ASSERT_TRUE(s.ok()) << s.ToString();
          if (before && Building("a_1")) ++writes_during;  // it completed inside the build
        }
      });
    }
    auto built = c().CreateIndex(J(R"({"a": 1})"));
    done = true;
    for (auto& w : writers) w.join();
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    during = writes_during.load();

    auto validated = c().Validate();
    ASSERT_TRUE(validated.ok());
    EXPECT_TRUE(validated->valid()) << (validated->errors.empty() ? "" : validated->errors.front());
    EXPECT_EQ(validated->missing_index_entries, 0);
    EXPECT_EQ(validated->extra_index_entries, 0);
    for (const char* filter : {R"({"a": 5})", R"({"a": {"$gte": 90}})", R"({"a": 2})"}) {
      EXPECT_EQ(Ids(J(filter), IndexHint{.name = "a_1"}), Ids(J(filter), IndexHint{.key_pattern = J(R"({"$natural": 1})")}))
          << filter;
    }
  }
  EXPECT_GT(during, 0) << "no write completed while the index was being built, even with " << size / 2
                       << " documents";
}

// A transaction that writes while the index is being built keeps the new
// index's entries itself, so it commits (the build's end changes no index
// version) and its document is found through the index.
TEST_F(IndexBuildTest, ATransactionWritingDuringTheBuildCommitsAndIsIndexed) {
  int size = 20000;
  bool written_during = false;
  for (int attempt = 0; attempt < 4 && !written_during; ++attempt, size *= 2) {
    (void)engine_->DropCollection("db", "c");  // the previous attempt's, if any
    Load(size);
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    std::atomic<bool> built{false};
    std::thread build([&] {
      EXPECT_TRUE(c().CreateIndex(J(R"({"a": 1})")).ok());
      built = true;
    });
    while (!Building("a_1") && !built.load()) std::this_thread::yield();
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c().InsertOne(J(R"({"_id": -5, "a": 4242})"), in_txn).ok());
    written_during = Building("a_1");
    build.join();
    Status committed = (*txn)->Commit();
    ASSERT_TRUE(committed.ok()) << committed.ToString();
    EXPECT_EQ(Ids(J(R"({"a": 4242})"), IndexHint{.name = "a_1"}), std::vector<int64_t>{-5});
    auto validated = c().Validate();
    ASSERT_TRUE(validated.ok());
    EXPECT_TRUE(validated->valid());
  }
  EXPECT_TRUE(written_during) << "the transaction's write never landed inside the build";
}

TEST_F(IndexBuildTest, AFailedBuildLeavesNothingBehind) {
  Load(3000);
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": -1, "a": [1, 2], "b": [3, 4]})")).ok());
  auto built = c().CreateIndex(J(R"({"a": 1, "b": 1})"));
  EXPECT_EQ(built.status().code(), ErrorCode::kCannotIndexParallelArrays) << built.status().ToString();
  auto listed = c().ListIndexes();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u) << "only _id_";
  auto stats = c().IndexStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->size(), 1u);
  auto validated = c().Validate();
  ASSERT_TRUE(validated.ok());
  EXPECT_TRUE(validated->valid());
  // The same index without the offending document builds.
  ASSERT_TRUE(c().DeleteOne(J(R"({"_id": -1})")).ok());
  EXPECT_TRUE(c().CreateIndex(J(R"({"a": 1, "b": 1})")).ok());
}

TEST_F(IndexBuildTest, AUniqueIndexStillRefusesDuplicatesAndABuiltIndexIsUsed) {
  Load(2000);  // `a` repeats
  EXPECT_EQ(c().CreateIndex(J(R"({"a": 1})"), /*unique=*/true).status().code(), ErrorCode::kDuplicateKey);
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})")).ok());
  EXPECT_FALSE(Building("a_1"));
  auto plan = c().Explain(J(R"({"a": 3})"));
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->ToJson().find("IXSCAN"), std::string::npos) << plan->ToJson();
  // Asking again for the built index is a no-op.
  auto again = c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1"})")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->num_indexes_before, again->num_indexes_after);
}

}  // namespace
}  // namespace docket
