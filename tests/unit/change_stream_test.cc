// Change streams through the embedded engine (aggregate/change_stream.h):
// the events of each kind, resume tokens (resumeAfter, startAfter after an
// invalidate, startAtOperationTime), postBatchResumeToken, MongoDB's errors,
// and the invariant under real threads: N writers and M watchers, every
// committed change seen exactly once and in commit order by every watcher,
// nothing from an aborted transaction.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::J;
using testing::Mode;
using testing::TempDir;

std::string Str(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return "<none>";
  return bson_iter_utf8(&it, nullptr);
}

Document Sub(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return Document();
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  return *Document::FromBytes(data, len);
}

class ChangeStreamTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = dir_.path(), .in_memory = GetParam() == Mode::kMemory,
                                .oplog_size_bytes = 4 << 20});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  Result<Cursor> Watch(Collection& c, const std::string& spec = "{}", const std::string& more = "") {
    std::vector<Document> pipeline{J("{\"$changeStream\": " + spec + "}")};
    if (!more.empty()) pipeline.push_back(J(more));
    return c.Aggregate(pipeline);
  }
  // The next `n` events, waiting up to 5 s for them.
  std::vector<Document> Take(Cursor& cursor, size_t n) {
    std::vector<Document> out;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.size() < n && !cursor.exhausted() && std::chrono::steady_clock::now() < until) {
      auto batch = cursor.NextBatch(n - out.size());
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      for (Document& d : *batch) out.push_back(std::move(d));
      if (out.size() < n && batch->empty()) cursor.AwaitData(std::chrono::milliseconds(200));
    }
    return out;
  }
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(ChangeStreamTest, EventsOfEachKindAndTheInvalidateThatEndsTheStream) {
  Collection c = engine_->collection("app", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 0, "before": true})")).ok());  // before the stream: not seen
  auto cursor = Watch(c);
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  ASSERT_TRUE(cursor->post_batch_resume_token().has_value());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "a": [1, 2, 3], "b": {"x": 1}})")).ok());
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"b.x": 2}, "$pop": {"a": 1}, "$unset": {"nope": 1}})")).ok());
  ASSERT_TRUE(c.ReplaceOne(J(R"({"_id": 1})"), J(R"({"r": 1})")).ok());
  ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(engine_->collection("app", "other").InsertOne(J(R"({"_id": 1})")).ok());  // another collection
  ASSERT_TRUE(engine_->DropCollection("app", "c").ok());
  const std::vector<Document> events = Take(*cursor, 6);
  ASSERT_EQ(events.size(), 6u);
  std::vector<std::string> kinds;
  for (const Document& e : events) kinds.push_back(Str(e, "operationType"));
  EXPECT_EQ(kinds, (std::vector<std::string>{"insert", "update", "replace", "delete", "drop", "invalidate"}));
  EXPECT_EQ(Sub(events[0], "fullDocument").ToJson(), J(R"({"_id": 1, "a": [1, 2, 3], "b": {"x": 1}})").ToJson());
  EXPECT_EQ(Sub(events[0], "ns").ToJson(), J(R"({"db": "app", "coll": "c"})").ToJson());
  EXPECT_EQ(Sub(events[1], "updateDescription").ToJson(),
            J(R"({"updatedFields": {"b.x": 2}, "removedFields": [],
                  "truncatedArrays": [{"field": "a", "newSize": 2}]})").ToJson());
  EXPECT_EQ(Sub(events[2], "fullDocument").ToJson(), J(R"({"_id": 1, "r": 1})").ToJson());
  EXPECT_EQ(Sub(events[3], "documentKey").ToJson(), J(R"({"_id": 1})").ToJson());
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(Sub(events[i - 1], "_id").ToJson(), Sub(events[i], "_id").ToJson()) << "tokens grow in stream order";
  }
  EXPECT_TRUE(cursor->exhausted()) << "an invalidate ends the stream";
  // startAfter the invalidate: the stream goes on with the next collection of that name.
  auto again = Watch(c, "{\"startAfter\": " + Sub(events[5], "_id").ToJson() + "}");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})")).ok());
  const std::vector<Document> after = Take(*again, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(Sub(after[0], "documentKey").ToJson(), J(R"({"_id": 2})").ToJson());
  // resumeAfter an invalidate is refused, as mongod refuses it.
  EXPECT_EQ(Watch(c, "{\"resumeAfter\": " + Sub(events[5], "_id").ToJson() + "}").status().code(),
            ErrorCode::kInvalidResumeToken);
}

TEST_P(ChangeStreamTest, ResumingMissesNothingAndRepeatsNothing) {
  Collection c = engine_->collection("app", "r");
  auto cursor = Watch(c);
  ASSERT_TRUE(cursor.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + "}")).ok());
  const std::vector<Document> first = Take(*cursor, 4);
  ASSERT_EQ(first.size(), 4u);
  // resumeAfter the fourth: the fifth comes next.
  auto resumed = Watch(c, "{\"resumeAfter\": " + Sub(first[3], "_id").ToJson() + "}");
  ASSERT_TRUE(resumed.ok());
  const std::vector<Document> rest = Take(*resumed, 6);
  ASSERT_EQ(rest.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Sub(rest[i], "documentKey").ToJson(), J("{\"_id\": " + std::to_string(i + 4) + "}").ToJson());
  }
  // startAtOperationTime of the third insert: from it on, it included.
  bson_iter_t ts;
  ASSERT_TRUE(first[2].Find("clusterTime", &ts));
  uint32_t t = 0, inc = 0;
  bson_iter_timestamp(&ts, &t, &inc);
  auto at = Watch(c, "{\"startAtOperationTime\": {\"$timestamp\": {\"t\": " + std::to_string(t) + ", \"i\": " +
                         std::to_string(inc) + "}}}");
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  const std::vector<Document> from_third = Take(*at, 8);
  ASSERT_EQ(from_third.size(), 8u);
  EXPECT_EQ(Sub(from_third[0], "documentKey").ToJson(), J(R"({"_id": 2})").ToJson());
}

TEST_P(ChangeStreamTest, ThePostBatchResumeTokenMovesPastWhatTheStreamFilteredOut) {
  Collection c = engine_->collection("app", "p");
  auto cursor = Watch(c, "{}", R"({"$match": {"operationType": "delete"}})");
  ASSERT_TRUE(cursor.ok());
  const Document before = *cursor->post_batch_resume_token();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + "}")).ok());
  auto batch = cursor->NextBatch();
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->empty());
  const Document after = *cursor->post_batch_resume_token();
  EXPECT_LT(before.ToJson(), after.ToJson());
  // Resuming from it skips the inserts it read and returns the delete.
  ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 1})")).ok());
  auto resumed = Watch(c, "{\"resumeAfter\": " + after.ToJson() + "}");
  ASSERT_TRUE(resumed.ok());
  const std::vector<Document> events = Take(*resumed, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Str(events[0], "operationType"), "delete");
}

TEST_P(ChangeStreamTest, MongoDbsErrors) {
  Collection c = engine_->collection("app", "e");
  auto code = [&](const std::vector<Document>& pipeline) { return c.Aggregate(pipeline).status().code(); };
  EXPECT_EQ(code({J(R"({"$match": {}})"), J(R"({"$changeStream": {}})")}), static_cast<ErrorCode>(40602));
  EXPECT_EQ(code({J(R"({"$changeStream": {}})"), J(R"({"$group": {"_id": null}})")}), ErrorCode::kIllegalOperation);
  EXPECT_EQ(code({J(R"({"$changeStream": {}})"), J(R"({"$bogus": {}})")}), static_cast<ErrorCode>(40324));
  EXPECT_EQ(code({J(R"({"$changeStream": {"nope": 1}})")}), ErrorCode::kIDLUnknownField);
  EXPECT_EQ(code({J(R"({"$changeStream": {"fullDocument": "sometimes"}})")}), ErrorCode::kBadValue);
  EXPECT_EQ(code({J(R"({"$changeStream": {"resumeAfter": {"_data": "nonsense"}}})")}), ErrorCode::kBadValue);
  EXPECT_EQ(code({J(R"({"$changeStream": {"startAtOperationTime": {"$timestamp": {"t": 1, "i": 1}},
                                        "resumeAfter": {"_data": "D1000000010000000100000000FF"}}})")}),
            static_cast<ErrorCode>(40674));
  EXPECT_EQ(code({J(R"({"$changeStream": {"startAtOperationTime": {"$timestamp": {"t": 1, "i": 1}}}})")}),
            ErrorCode::kChangeStreamHistoryLost)
      << "a time before the oplog began";
  EXPECT_EQ(engine_->Aggregate("admin", {J(R"({"$changeStream": {}})")}).status().code(), ErrorCode::kInvalidNamespace);
  EXPECT_EQ(engine_->Aggregate("app", {J(R"({"$changeStream": {"allChangesForCluster": true}})")}).status().code(),
            ErrorCode::kInvalidNamespace);
  // A stage that removes _id fails at the event, as mongod's (280).
  auto cursor = Watch(c, "{}", R"({"$project": {"_id": 0}})");
  ASSERT_TRUE(cursor.ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})")).ok());
  auto batch = cursor->NextBatch();
  EXPECT_EQ(batch.status().code(), ErrorCode::kChangeStreamFatalError);
}

TEST_P(ChangeStreamTest, NoOplogNoChangeStream) {
  engine_.reset();
  TempDir other;
  auto opened = Engine::Open({.path = other.path(), .in_memory = GetParam() == Mode::kMemory});
  ASSERT_TRUE(opened.ok());
  Collection c = (*opened)->collection("app", "c");
  EXPECT_EQ(c.Aggregate({J(R"({"$changeStream": {}})")}).status().code(), static_cast<ErrorCode>(40573));
}

TEST_P(ChangeStreamTest, DatabaseAndClusterStreamsSeeTheirScope) {
  auto db_stream = engine_->Aggregate("app", {J(R"({"$changeStream": {}})")});
  auto all = engine_->Aggregate("admin", {J(R"({"$changeStream": {"allChangesForCluster": true}})")});
  ASSERT_TRUE(db_stream.ok() && all.ok());
  ASSERT_TRUE(engine_->collection("app", "a").InsertOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(engine_->collection("other", "b").InsertOne(J(R"({"_id": 2})")).ok());
  ASSERT_TRUE(engine_->collection("app", "system.views").InsertOne(J(R"({"_id": "x"})")).ok() ||
              true);  // a system collection is not part of a database's stream either way
  ASSERT_TRUE(engine_->DropDatabase("app").ok());
  const std::vector<Document> in_db = Take(*db_stream, 4);
  std::vector<std::string> kinds;
  for (const Document& e : in_db) kinds.push_back(Str(e, "operationType") + " " + Sub(e, "ns").ToJson());
  ASSERT_EQ(in_db.size(), 4u) << ::testing::PrintToString(kinds);
  EXPECT_EQ(Str(in_db[0], "operationType"), "insert");
  EXPECT_EQ(Str(in_db[1], "operationType"), "drop");
  EXPECT_EQ(Str(in_db[2], "operationType"), "dropDatabase");
  EXPECT_EQ(Str(in_db[3], "operationType"), "invalidate");
  const std::vector<Document> everywhere = Take(*all, 4);
  ASSERT_EQ(everywhere.size(), 4u);
  EXPECT_EQ(Sub(everywhere[1], "ns").ToJson(), J(R"({"db": "other", "coll": "b"})").ToJson());
  EXPECT_EQ(Str(everywhere[3], "operationType"), "dropDatabase");
  EXPECT_FALSE(all->exhausted()) << "a deployment's stream outlives a database";
}

TEST_P(ChangeStreamTest, WritersAndWatchersEveryCommitSeenOnceInOrderNothingAborted) {
  constexpr int kWriters = 4, kWatchers = 3, kPerWriter = 120;
  Collection c = engine_->collection("app", "load");
  std::vector<Cursor> cursors;
  for (int w = 0; w < kWatchers; ++w) {
    auto cursor = Watch(c);
    ASSERT_TRUE(cursor.ok());
    cursors.push_back(std::move(cursor).value());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Collection mine = engine_->collection("app", "load");
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string id = std::to_string(w * 1000 + i);
        if (i % 10 == 9) {  // an aborted transaction: never seen
          auto txn = engine_->BeginTransaction();
          WriteOptions in_txn{.transaction = txn->get()};
          if (!mine.InsertOne(J("{\"_id\": -" + id + "}"), in_txn).ok()) ++failures;
          (*txn)->Abort();
        }
        if (!mine.InsertOne(J("{\"_id\": " + id + ", \"w\": " + std::to_string(w) + ", \"i\": " + std::to_string(i) + "}")).ok()) {
          ++failures;
        }
      }
    });
  }
  // Each watcher reads concurrently with the writers, in its own thread.
  std::vector<std::vector<Document>> seen(kWatchers);
  std::vector<std::thread> watchers;
  for (int w = 0; w < kWatchers; ++w) {
    watchers.emplace_back([&, w] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (seen[w].size() < size_t{kWriters * kPerWriter} && std::chrono::steady_clock::now() < until) {
        auto batch = cursors[w].NextBatch();
        if (!batch.ok()) {
          ++failures;
          return;
        }
        for (Document& d : *batch) seen[w].push_back(std::move(d));
        if (batch->empty()) cursors[w].AwaitData(std::chrono::milliseconds(100));
      }
    });
  }
  for (std::thread& t : writers) t.join();
  for (std::thread& t : watchers) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (int w = 0; w < kWatchers; ++w) {
    ASSERT_EQ(seen[w].size(), size_t{kWriters * kPerWriter}) << "watcher " << w;
    std::map<int64_t, int64_t> next_i;  // each writer's inserts in its own order
    for (size_t k = 0; k < seen[w].size(); ++k) {
      const Document doc = Sub(seen[w][k], "fullDocument");
      bson_iter_t writer, i;
      ASSERT_TRUE(doc.Find("w", &writer) && doc.Find("i", &i)) << seen[w][k].ToJson();
      EXPECT_EQ(bson_iter_as_int64(&i), next_i[bson_iter_as_int64(&writer)]++) << "watcher " << w;
      if (k > 0) EXPECT_EQ(seen[w][k - 1].ToJson() < seen[w][k].ToJson(), true);
      // Every watcher sees the same events in the same (commit) order.
      if (w > 0) EXPECT_EQ(seen[w][k].ToJson(), seen[0][k].ToJson());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ChangeStreamTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
