// The oplog (engine/oplog.h): MongoDB's entry format for inserts, updates
// ($v: 2 diffs), replacements, deletes and transactions (one applyOps
// entry); nothing from failed writes, aborted transactions or the local
// database; times that grow in commit order, across threads and restarts;
// the oplog's size limit; user writes to it refused.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bson/update_diff.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;
using testing::Mode;
using testing::TempDir;

Document Sub(const Document& doc, const char* field) {
  bson_iter_t it;
  EXPECT_TRUE(doc.Find(field, &it)) << field << " in " << doc.ToJson();
  if (!BSON_ITER_HOLDS_DOCUMENT(&it) && !BSON_ITER_HOLDS_ARRAY(&it)) return Document();
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_DOCUMENT(&it)) bson_iter_document(&it, &len, &data);
  else bson_iter_array(&it, &len, &data);
  return *Document::FromBytes(data, len);
}

std::string Str(const Document& doc, const char* field) {
  bson_iter_t it;
  if (!doc.Find(field, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return "<none>";
  return bson_iter_utf8(&it, nullptr);
}

LogicalTime Ts(const Document& entry) {
  bson_iter_t it;
  LogicalTime t;
  EXPECT_TRUE(entry.Find("ts", &it) && BSON_ITER_HOLDS_TIMESTAMP(&it)) << entry.ToJson();
  bson_iter_timestamp(&it, &t.seconds, &t.increment);
  return t;
}

class OplogTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { Open(); }
  void Open(int64_t oplog_bytes = 1 << 20) {
    engine_.reset();
    auto opened = Engine::Open(
        {.path = dir_.path(), .in_memory = GetParam() == Mode::kMemory, .oplog_size_bytes = oplog_bytes});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  // Every entry of a document change or command, in natural (commit)
  // order (not the no-op that opens a new oplog).
  std::vector<Document> Entries(const Document& filter = J(R"({"op": {"$ne": "n"}})")) {
    auto docs = engine_->collection("local", "oplog.rs").Find(filter)->ToVector();
    EXPECT_TRUE(docs.ok());
    return docs.ok() ? *docs : std::vector<Document>{};
  }
  std::string Uuid(const std::string& db, const std::string& name) {
    for (const CollectionInfo& info : engine_->ListCollections(db)) {
      if (info.name == name) return info.uuid;
    }
    return "";
  }
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(OplogTest, EachChangeHasOneEntryInMongoDbsFormat) {
  Collection c = engine_->collection("app", "people");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "name": "ada", "tags": ["x", "y"], "a": {"b": 1, "c": 2}})")).ok());
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"a.b": 5, "tags.2": "z"}, "$unset": {"name": 1}})")).ok());
  ASSERT_TRUE(c.ReplaceOne(J(R"({"_id": 1})"), J(R"({"fresh": true})")).ok());
  ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 1})")).ok());
  // The first insert created the collection: its create comes first.
  const std::vector<Document> all = Entries();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(Str(all[0], "op"), "c");
  EXPECT_EQ(Str(all[0], "ns"), "app.$cmd");
  EXPECT_EQ(Str(Sub(all[0], "o"), "create"), "people");
  EXPECT_EQ(Sub(Sub(all[0], "o"), "idIndex").ToJson(), J(R"({"v": 2, "key": {"_id": 1}, "name": "_id_"})").ToJson());
  const std::vector<Document> entries(all.begin() + 1, all.end());
  const std::string uuid = Uuid("app", "people");
  ASSERT_EQ(uuid.size(), 16u);
  const char* ops[] = {"i", "u", "u", "d"};
  for (size_t i = 0; i < entries.size(); ++i) {
    const Document& e = entries[i];
    EXPECT_EQ(Str(e, "op"), ops[i]);
    EXPECT_EQ(Str(e, "ns"), "app.people");
    bson_iter_t it;
    EXPECT_FALSE(e.Find("_id", &it)) << "oplog entries have no _id";
    ASSERT_TRUE(e.Find("ui", &it) && BSON_ITER_HOLDS_BINARY(&it));
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* bytes = nullptr;
    bson_iter_binary(&it, &subtype, &len, &bytes);
    EXPECT_EQ(subtype, BSON_SUBTYPE_UUID);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes), len), uuid);
    ASSERT_TRUE(e.Find("t", &it) && BSON_ITER_HOLDS_INT64(&it));
    EXPECT_EQ(bson_iter_int64(&it), 1);
    ASSERT_TRUE(e.Find("v", &it) && BSON_ITER_HOLDS_INT64(&it));
    EXPECT_EQ(bson_iter_int64(&it), 2);
    EXPECT_TRUE(e.Find("wall", &it) && BSON_ITER_HOLDS_DATE_TIME(&it));
    if (i > 0) EXPECT_LT(Ts(entries[i - 1]), Ts(e));
  }
  EXPECT_EQ(Sub(entries[0], "o").ToJson(),
            J(R"({"_id": 1, "name": "ada", "tags": ["x", "y"], "a": {"b": 1, "c": 2}})").ToJson());
  EXPECT_EQ(Sub(entries[1], "o").ToJson(),
            J(R"({"$v": 2, "diff": {"d": {"name": false}, "stags": {"a": true, "u2": "z"}, "sa": {"u": {"b": 5}}}})")
                .ToJson());
  EXPECT_EQ(Sub(entries[1], "o2").ToJson(), J(R"({"_id": 1})").ToJson());
  EXPECT_EQ(Sub(entries[2], "o").ToJson(), J(R"({"_id": 1, "fresh": true})").ToJson());
  EXPECT_EQ(Sub(entries[3], "o").ToJson(), J(R"({"_id": 1})").ToJson());
  // The clock's last write is the newest entry's time.
  EXPECT_EQ(engine_->cluster_clock().LastWrite(), Ts(entries.back()));
}

TEST_P(OplogTest, NothingFromFailedWritesNoOpsOrTheLocalDatabase) {
  Collection c = engine_->collection("app", "c");
  ASSERT_TRUE(c.CreateIndex(J(R"({"u": 1})"), /*unique=*/true).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "u": 1})")).ok());
  EXPECT_EQ(c.InsertOne(J(R"({"_id": 2, "u": 1})")).status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(c.InsertOne(J(R"({"_id": 1})")).status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"u": 1}})"))->modified_count, 0);  // a no-op
  EXPECT_EQ(c.UpdateOne(J(R"({"_id": 9})"), J(R"({"$set": {"u": 3}})"))->matched_count, 0);
  ASSERT_TRUE(engine_->collection("local", "startup_log").InsertOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(engine_->collection("app", "system.profile").InsertOne(J(R"({"_id": 1})")).ok());
  InsertManyOptions ordered;
  auto many = c.InsertMany({J(R"({"_id": 3, "u": 3})"), J(R"({"_id": 4, "u": 1})"), J(R"({"_id": 5, "u": 5})")}, ordered);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->inserted_ids.size(), 1u) << "ordered: stops at the duplicate";
  const std::vector<Document> entries = Entries(J(R"({"op": {"$in": ["i", "u", "d"]}})"));
  ASSERT_EQ(entries.size(), 2u);  // _id 1 and _id 3
  EXPECT_EQ(Sub(entries[0], "o").ToJson(), J(R"({"_id": 1, "u": 1})").ToJson());
  EXPECT_EQ(Sub(entries[1], "o").ToJson(), J(R"({"_id": 3, "u": 3})").ToJson());
}

TEST_P(OplogTest, ATransactionIsOneApplyOpsEntryAndAnAbortedOneNothing) {
  Collection c = engine_->collection("app", "t");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 0})")).ok());
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    (*txn)->SetSession(J(R"({"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}})"), 7);
    WriteOptions in_txn{.transaction = txn->get()};
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
    UpdateOptions update;
    update.write = in_txn;
    DeleteOptions remove;
    remove.write = in_txn;
    ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 0})"), J(R"({"$set": {"x": 1}})"), update).ok());
    ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 1})"), remove).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    auto txn = engine_->BeginTransaction();
    WriteOptions in_txn{.transaction = txn->get()};
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})"), in_txn).ok());
    (*txn)->Abort();
  }
  // The first insert's, and the transaction's (not the collection's create).
  const std::vector<Document> entries = Entries(J(R"({"op": {"$ne": "n"}, "ns": {"$ne": "app.$cmd"}})"));
  ASSERT_EQ(entries.size(), 2u);
  const Document& t = entries[1];
  EXPECT_EQ(Str(t, "op"), "c");
  EXPECT_EQ(Str(t, "ns"), "admin.$cmd");
  bson_iter_t it;
  ASSERT_TRUE(t.Find("txnNumber", &it));
  EXPECT_EQ(bson_iter_as_int64(&it), 7);
  EXPECT_TRUE(t.Find("lsid", &it));
  EXPECT_EQ(Sub(t, "prevOpTime").ToJson(),
            J(R"({"ts": {"$timestamp": {"t": 0, "i": 0}}, "t": {"$numberLong": "-1"}})").ToJson());
  const Document ops = Sub(Sub(t, "o"), "applyOps");
  std::vector<std::string> kinds;
  bson_iter_t item;
  ops.Iterate(&item);
  while (bson_iter_next(&item)) {
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&item, &len, &data);
    const Document op = *Document::FromBytes(data, len);
    kinds.push_back(Str(op, "op") + " " + Str(op, "ns"));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"i app.t", "u app.t", "d app.t"}));
}

TEST_P(OplogTest, ConcurrentWritersCommitInTimeOrder) {
  // Each writer increments n on shared documents; since an entry commits
  // with its change and times follow commit order, each document's update
  // entries must show n = 1, 2, 3... in oplog order, and there must be
  // exactly one entry per increment.
  Collection c = engine_->collection("app", "counters");
  constexpr int kDocs = 3, kThreads = 4, kIncrements = 150;
  for (int d = 0; d < kDocs; ++d) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(d) + ", \"n\": 0}")).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      Collection mine = engine_->collection("app", "counters");
      for (int i = 0; i < kIncrements; ++i) {
        const int d = (t + i) % kDocs;
        if (!mine.UpdateOne(J("{\"_id\": " + std::to_string(d) + "}"), J(R"({"$inc": {"n": 1}})")).ok()) ++failures;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  ASSERT_EQ(failures.load(), 0);
  std::map<int64_t, int64_t> last_n;
  LogicalTime previous;
  size_t updates = 0;
  for (const Document& e : Entries()) {
    EXPECT_LT(previous, Ts(e));
    previous = Ts(e);
    if (Str(e, "op") != "u") continue;
    ++updates;
    bson_iter_t id, n;
    const Document o2 = Sub(e, "o2");  // the iterator points into it
    ASSERT_TRUE(o2.Find("_id", &id));
    const Document diff_updates = Sub(Sub(Sub(e, "o"), "diff"), "u");
    ASSERT_TRUE(diff_updates.Find("n", &n)) << e.ToJson();
    const int64_t doc = bson_iter_as_int64(&id);
    EXPECT_EQ(bson_iter_as_int64(&n), last_n[doc] + 1) << "document " << doc;
    last_n[doc] = bson_iter_as_int64(&n);
  }
  EXPECT_EQ(updates, size_t{kThreads * kIncrements});
}

TEST_P(OplogTest, TimesKeepGrowingAcrossARestartAndTheSizeLimitHolds) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Collection c = engine_->collection("app", "big");
  const std::string pad(1000, 'p');
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + ", \"p\": \"" + pad + "\"}")).ok());
  }
  std::vector<Document> entries = Entries();
  ASSERT_FALSE(entries.empty());
  int64_t bytes = 0;
  for (const Document& e : entries) bytes += static_cast<int64_t>(e.size());
  EXPECT_LE(bytes, 1 << 20);
  EXPECT_LT(entries.size(), 3000u) << "the oldest entries go past the size";
  EXPECT_EQ(Sub(entries.back(), "o").ToJson(), J("{\"_id\": 2999, \"p\": \"" + pad + "\"}").ToJson());
  const LogicalTime before = Ts(entries.back());
  const std::string uuid = Uuid("app", "big");
  Open(64 << 20);  // an existing oplog keeps its size
  EXPECT_EQ(Uuid("app", "big"), uuid) << "a collection keeps its UUID across a restart";
  Collection again = engine_->collection("app", "big");
  ASSERT_TRUE(again.DeleteOne(J(R"({"_id": 2999})")).ok());
  entries = Entries();
  EXPECT_LT(before, Ts(entries.back()));
  EXPECT_EQ(Str(entries.back(), "op"), "d");
  for (const CollectionInfo& info : engine_->ListCollections("local")) {
    if (info.name == "oplog.rs") EXPECT_EQ(info.capped_size, 1 << 20);
  }
}

TEST_P(OplogTest, UsersCannotWriteTheOplog) {
  Collection oplog = engine_->collection("local", "oplog.rs");
  EXPECT_EQ(oplog.InsertOne(J(R"({"op": "n"})")).status().code(), ErrorCode::kInvalidNamespace);
  EXPECT_EQ(oplog.DeleteMany(Document()).status().code(), ErrorCode::kInvalidNamespace);
}

TEST_P(OplogTest, NoOplogNoEntries) {
  engine_.reset();
  TempDir other;
  auto opened = Engine::Open({.path = other.path(), .in_memory = GetParam() == Mode::kMemory});
  ASSERT_TRUE(opened.ok());
  engine_ = std::move(opened).value();
  ASSERT_TRUE(engine_->collection("app", "c").InsertOne(J(R"({"_id": 1})")).ok());
  EXPECT_FALSE(engine_->has_oplog());
  for (const CollectionInfo& info : engine_->ListCollections("local")) EXPECT_NE(info.name, "oplog.rs");
}

INSTANTIATE_TEST_SUITE_P(Modes, OplogTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

// The update diff on its own: nested objects, arrays that grow and shrink,
// type changes, and values that look alike but differ (1 vs 1.0).
TEST(UpdateDiffTest, SectionsAsMongoDbWritesThem) {
  auto diff = [](const char* before, const char* after) {
    return bson::ComputeUpdateDiff(J(before), J(after)).ToJson();
  };
  EXPECT_EQ(diff(R"({"a": 1})", R"({"a": 1})"), J("{}").ToJson());
  EXPECT_EQ(diff(R"({"a": 1, "b": 2})", R"({"a": 1, "c": 3})"), J(R"({"d": {"b": false}, "i": {"c": 3}})").ToJson());
  EXPECT_EQ(diff(R"({"a": 1})", R"({"a": 1.0})"), J(R"({"u": {"a": 1.0}})").ToJson());
  EXPECT_EQ(diff(R"({"a": {"b": {"c": 1}}})", R"({"a": {"b": {"c": 2}}})"),
            J(R"({"sa": {"sb": {"u": {"c": 2}}}})").ToJson());
  EXPECT_EQ(diff(R"({"a": [1, 2, 3]})", R"({"a": [1]})"), J(R"({"sa": {"a": true, "l": 1}})").ToJson());
  EXPECT_EQ(diff(R"({"a": [1, {"x": 1}]})", R"({"a": [1, {"x": 2}, 3]})"),
            J(R"({"sa": {"a": true, "s1": {"u": {"x": 2}}, "u2": 3}})").ToJson());
  EXPECT_EQ(diff(R"({"a": [1]})", R"({"a": {"0": 1}})"), J(R"({"u": {"a": {"0": 1}}})").ToJson());
  // A name given twice (valid BSON): the k-th occurrence pairs with the
  // k-th, so equal documents have an empty diff (update_fuzz's finding).
  EXPECT_EQ(diff(R"({"_id": 1, "_id": 2})", R"({"_id": 1, "_id": 2})"), J("{}").ToJson());
  EXPECT_EQ(diff(R"({"x": 1, "x": 2})", R"({"x": 1, "x": 3})"), J(R"({"u": {"x": 3}})").ToJson());
}

}  // namespace
}  // namespace docket
