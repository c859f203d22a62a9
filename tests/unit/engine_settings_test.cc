// The engine's runtime settings (MongoDB's server parameters): notablescan
// refuses every read or write that would scan a collection, with mongod's
// exemptions, and lets the same operations through once an index answers
// them; the TTL monitor can be turned off and on and its interval changed
// while it runs.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::J;

class NoTableScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = "", .in_memory = true, .ttl_monitor_seconds = 0});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    ASSERT_TRUE(people().InsertMany({J(R"({"_id": 1, "a": 1, "b": 1})"), J(R"({"_id": 2, "a": 2, "b": 2})")}).ok());
    engine_->SetNoTableScan(true);
  }
  Collection people() { return engine_->collection("db", "people"); }

  Status FindStatus(const std::string& filter, FindOptions options = {}) {
    auto cursor = people().Find(J(filter), options);
    if (!cursor.ok()) return cursor.status();
    auto docs = cursor->ToVector();
    return docs.ok() ? Status::OK() : docs.status();
  }

  std::unique_ptr<Engine> engine_;
};

TEST_F(NoTableScanTest, RefusesEveryOperationThatWouldScan) {
  Status find = FindStatus(R"({"a": 1})");
  EXPECT_EQ(find.code(), ErrorCode::kNoQueryExecutionPlans) << find.ToString();
  EXPECT_NE(find.message().find("No indexed plans available, and running with 'notablescan'"), std::string::npos);

  EXPECT_EQ(people().CountDocuments(J(R"({"a": 1})")).status().code(), ErrorCode::kNoQueryExecutionPlans);
  EXPECT_EQ(people().UpdateOne(J(R"({"a": 1})"), J(R"({"$set": {"c": 1}})")).status().code(),
            ErrorCode::kNoQueryExecutionPlans);
  EXPECT_EQ(people().UpdateMany(J(R"({"a": 1})"), J(R"({"$set": {"c": 1}})")).status().code(),
            ErrorCode::kNoQueryExecutionPlans);
  EXPECT_EQ(people().DeleteOne(J(R"({"b": 2})")).status().code(), ErrorCode::kNoQueryExecutionPlans);
  EXPECT_EQ(people().DeleteMany(J(R"({"b": 2})")).status().code(), ErrorCode::kNoQueryExecutionPlans);
  auto aggregated = people().Aggregate({J(R"({"$match": {"a": 1}})")});
  Status aggregate = aggregated.ok() ? aggregated->ToVector().status() : aggregated.status();
  EXPECT_EQ(aggregate.code(), ErrorCode::kNoQueryExecutionPlans) << aggregate.ToString();

  // Nothing was written by the refused writes.
  engine_->SetNoTableScan(false);
  EXPECT_EQ(*people().CountDocuments(J(R"({"c": {"$exists": true}})")), 0);
  EXPECT_EQ(*people().CountDocuments(Document()), 2);
}

TEST_F(NoTableScanTest, NaturalHintIsRefusedWithItsOwnMessage) {
  FindOptions natural;
  natural.hint = IndexHint{.key_pattern = J(R"({"$natural": 1})")};
  Status s = FindStatus(R"({"a": 1})", natural);
  EXPECT_EQ(s.code(), ErrorCode::kNoQueryExecutionPlans);
  EXPECT_NE(s.message().find("hint $natural is not allowed, because 'notablescan' is enabled"), std::string::npos)
      << s.ToString();
  // With an empty filter the restriction does not apply (mongod's SERVER-274).
  EXPECT_TRUE(FindStatus("{}", natural).ok());
}

TEST_F(NoTableScanTest, MongodsExemptionsStillScan) {
  EXPECT_TRUE(FindStatus("{}").ok()) << "an empty filter";
  EXPECT_TRUE(FindStatus(R"({"_id": 1})").ok()) << "an _id equality";
  EXPECT_TRUE(FindStatus(R"({"_id": {"$gt": 0}, "a": 1})").ok()) << "an _id range";
  EXPECT_TRUE(FindStatus(R"({"$and": [{"_id": {"$in": [1, 2]}}, {"a": 1}]})").ok()) << "_id in a top-level $and";
  FindOptions by_id;
  by_id.sort = J(R"({"_id": 1})");
  EXPECT_TRUE(FindStatus(R"({"a": 1})", by_id).ok()) << "a sort the _id index gives";
  EXPECT_EQ(FindStatus(R"({"_id": {"$ne": 1}})").code(), ErrorCode::kNoQueryExecutionPlans)
      << "$ne does not bound _id";
  Collection local = engine_->collection("local", "startup_log");
  ASSERT_TRUE(local.InsertOne(J(R"({"_id": 1, "a": 1})")).ok());
  EXPECT_EQ(*local.CountDocuments(J(R"({"a": 1})")), 1) << "the database local";
  Collection system = engine_->collection("db", "system.profile");
  EXPECT_TRUE(system.Find(J(R"({"a": 1})")).ok()) << "system.* collections";
}

TEST_F(NoTableScanTest, AnIndexLetsTheSameOperationsThrough) {
  ASSERT_TRUE(people().CreateIndex(J(R"({"a": 1})")).ok());
  EXPECT_TRUE(FindStatus(R"({"a": 1, "b": 1})").ok());
  EXPECT_TRUE(FindStatus(R"({"a": {"$in": []}, "b": 0})").ok()) << "mongod's SERVER-4327";
  auto updated = people().UpdateOne(J(R"({"a": 1})"), J(R"({"$set": {"c": 1}})"));
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->modified_count, 1);
  EXPECT_EQ(*people().CountDocuments(J(R"({"a": 1})")), 1);
  // A filter on another field still needs a scan.
  EXPECT_EQ(FindStatus(R"({"b": 1})").code(), ErrorCode::kNoQueryExecutionPlans);
  engine_->SetNoTableScan(false);
  EXPECT_TRUE(FindStatus(R"({"b": 1})").ok()) << "off again";
}

TEST(TtlMonitorSettingsTest, TurnedOnAtRuntimeItDeletesAtTheNewInterval) {
  auto opened = Engine::Open({.path = "", .in_memory = true, .ttl_monitor_seconds = 0});
  ASSERT_TRUE(opened.ok());
  Engine& engine = **opened;
  EXPECT_FALSE(engine.ttl_monitor_enabled());
  EXPECT_EQ(engine.SetTtlMonitorInterval(0).code(), ErrorCode::kBadValue);
  EXPECT_EQ(engine.ttl_monitor_interval(), 60);
  Collection sessions = engine.collection("db", "sessions");
  ASSERT_TRUE(sessions.CreateIndexes({J(R"({"key": {"at": 1}, "expireAfterSeconds": 1})")}).ok());
  ASSERT_TRUE(sessions.InsertOne(J(R"({"_id": 1, "at": {"$date": "2001-01-01T00:00:00Z"}})")).ok());
  // Off: nothing is deleted however long we wait for a pass (2 s: twice
  // the interval set below, which applies only once the monitor is on).
  ASSERT_TRUE(engine.SetTtlMonitorInterval(1).ok());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(*sessions.CountDocuments(Document()), 1) << "the monitor ran while off";
  engine.SetTtlMonitorEnabled(true);
  int64_t left = 1;
  for (int attempt = 0; attempt < 100 && left != 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = *sessions.CountDocuments(Document());
  }
  EXPECT_EQ(left, 0) << "the monitor did not run within 10 s of being turned on with a 1 s interval";
}

}  // namespace
}  // namespace docket
