// $indexStats' access counts (Collection::IndexStats): each operation that
// reads an index counts once for it — find, count, aggregate, update,
// delete, findAndModify, the _id index's point reads — explain and
// unindexed reads do not count, a collMod that recompiles an index keeps
// its count, and concurrent readers lose no count.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::J;

class IndexUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = "", .in_memory = true, .ttl_monitor_seconds = 0});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    ASSERT_TRUE(c().InsertMany({J(R"({"_id": 1, "a": 1, "b": 1})"), J(R"({"_id": 2, "a": 2, "b": 2})")}).ok());
    ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})")).ok());
  }
  Collection c() { return engine_->collection("db", "c"); }
  std::map<std::string, int64_t> Ops() {
    auto stats = c().IndexStats();
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    std::map<std::string, int64_t> out;
    if (stats.ok()) {
      for (const IndexUsage& u : *stats) out[u.name] = u.ops;
    }
    return out;
  }
  void Drain(Result<Cursor> cursor) {
    ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
    ASSERT_TRUE(cursor->ToVector().ok());
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(IndexUsageTest, EachOperationThatReadsAnIndexCountsOnce) {
  EXPECT_EQ(Ops(), (std::map<std::string, int64_t>{{"_id_", 0}, {"a_1", 0}}));
  Drain(c().Find(J(R"({"a": 1})")));
  Drain(c().Find(J(R"({"b": 1})")));  // a collection scan: no index read
  EXPECT_EQ(Ops()["a_1"], 1);
  Drain(c().Find(J(R"({"_id": 2})")));
  EXPECT_EQ(Ops()["_id_"], 1);
  ASSERT_TRUE(c().CountDocuments(J(R"({"a": 2})")).ok());
  EXPECT_EQ(Ops()["a_1"], 2) << "a count from the index alone";
  Drain(c().Aggregate({J(R"({"$match": {"a": {"$gte": 1}}})")}));
  EXPECT_EQ(Ops()["a_1"], 3);
  ASSERT_TRUE(c().UpdateOne(J(R"({"a": 1})"), J(R"({"$set": {"b": 5}})")).ok());
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"b": 6}})")).ok());
  ASSERT_TRUE(c().DeleteMany(J(R"({"a": 9})")).ok());
  EXPECT_EQ(Ops(), (std::map<std::string, int64_t>{{"_id_", 2}, {"a_1", 5}}));
  ASSERT_TRUE(c().Explain(J(R"({"a": 1})")).ok());
  EXPECT_EQ(Ops()["a_1"], 5) << "explain does not count";
}

TEST_F(IndexUsageTest, CountsSurviveACollModAndStartWithANewIndex) {
  Drain(c().Find(J(R"({"a": 1})")));
  auto before = c().IndexStats();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(c().ModifyIndex(IndexHint{.name = "a_1"}, IndexModification{.hidden = true}).ok());
  auto after = c().IndexStats();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[1].ops, 1);
  EXPECT_EQ((*after)[1].since_ms, (*before)[1].since_ms);
  ASSERT_TRUE(c().CreateIndex(J(R"({"b": 1})")).ok());
  EXPECT_EQ(Ops()["b_1"], 0);
  auto stats = c().IndexStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE((*stats)[2].since_ms, (*before)[1].since_ms);
  EXPECT_EQ((*stats)[2].key, J(R"({"b": 1})"));
}

TEST_F(IndexUsageTest, MissingCollectionHasNoneAndAViewIsRefused) {
  auto none = engine_->collection("db", "nothing").IndexStats();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  CollectionOptions view;
  view.view_on = "c";
  ASSERT_TRUE(engine_->CreateCollection("db", "v", view).ok());
  EXPECT_EQ(engine_->collection("db", "v").IndexStats().status().code(), ErrorCode::kCommandNotSupportedOnView);
}

TEST_F(IndexUsageTest, ConcurrentReadersLoseNoCount) {
  constexpr int kThreads = 4, kReads = 250;
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([this] {
      for (int i = 0; i < kReads; ++i) {
        auto found = c().FindOne(J(R"({"a": 2})"));
        ASSERT_TRUE(found.ok() && found->has_value());
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(Ops()["a_1"], kThreads * kReads);
}

}  // namespace
}  // namespace docket
