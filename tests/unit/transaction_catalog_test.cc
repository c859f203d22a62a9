// A collection created inside a transaction — implicitly by its first write,
// or with CreateCollection — belongs to the transaction until it commits:
// invisible to everyone else, gone if the transaction aborts, and on disk only
// with the commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

class TransactionCatalogTest : public EngineTest {
 protected:
  bool Listed(const std::string& db, const std::string& name) {
    for (const CollectionInfo& info : engine_->ListCollections(db)) {
      if (info.name == name) return true;
    }
    return false;
  }
  bool DatabaseListed(const std::string& db) {
    auto dbs = engine_->ListDatabases();
    return std::find(dbs.begin(), dbs.end(), db) != dbs.end();
  }
};

TEST_P(TransactionCatalogTest, ImplicitCreationIsInvisibleUntilCommit) {
  Collection c = engine_->collection("newdb", "c");
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
    EXPECT_FALSE(Listed("newdb", "c"));
    EXPECT_FALSE(DatabaseListed("newdb"));
    EXPECT_EQ(*c.CountDocuments(Document()), 0);
    CountOptions inside;
    inside.read.transaction = txn->get();
    EXPECT_EQ(*c.CountDocuments(Document(), inside),
              1);  // the transaction sees its own collection
    ASSERT_TRUE((*txn)->Commit().ok());
  }  // the transaction ends before the engine may be reopened
  EXPECT_TRUE(Listed("newdb", "c"));
  EXPECT_EQ(*c.CountDocuments(Document()), 1);
  if (GetParam() == Mode::kDisk) {
    Reopen();
    EXPECT_TRUE(Listed("newdb", "c"));
    EXPECT_EQ(*engine_->collection("newdb", "c").CountDocuments(Document()), 1);
  }
}

TEST_P(TransactionCatalogTest, AbortRemovesTheCollectionItCreated) {
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(engine_->collection("db", "made").InsertOne(J(R"({"_id": 1})"), in_txn).ok());
    ASSERT_TRUE(engine_->CreateCollection("db", "explicit", txn->get()).ok());
    (*txn)->Abort();
  }
  EXPECT_FALSE(Listed("db", "made"));
  EXPECT_FALSE(Listed("db", "explicit"));
  // A transaction dropped without Commit or Abort aborts too.
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(engine_->CreateCollection("db", "forgotten", txn->get()).ok());
  }
  EXPECT_FALSE(Listed("db", "forgotten"));
  // The names are free again.
  ASSERT_TRUE(engine_->CreateCollection("db", "explicit").ok());
  ASSERT_TRUE(engine_->collection("db", "made").InsertOne(J(R"({"_id": 2})")).ok());
  EXPECT_EQ(*engine_->collection("db", "made").CountDocuments(Document()), 1);
  if (GetParam() == Mode::kDisk) {
    Reopen();
    EXPECT_TRUE(Listed("db", "made"));
    EXPECT_FALSE(Listed("db", "forgotten"));
  }
}

TEST_P(TransactionCatalogTest, AnotherTransactionCreatingTheSameCollectionConflicts) {
  auto first = engine_->BeginTransaction();
  auto second = engine_->BeginTransaction();
  ASSERT_TRUE(first.ok() && second.ok());
  WriteOptions a, b;
  a.transaction = first->get();
  b.transaction = second->get();
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), a).ok());
  auto clash = c.InsertOne(J(R"({"_id": 2})"), b);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), ErrorCode::kWriteConflict);
  EXPECT_EQ(engine_->CreateCollection("db", "c", second->get()).code(), ErrorCode::kWriteConflict);
  ASSERT_TRUE((*first)->Commit().ok());
  EXPECT_EQ(engine_->CreateCollection("db", "c").code(), ErrorCode::kNamespaceExists);
}

// A plain writer of a collection a transaction is creating waits for the
// transaction, then writes into the committed collection.
TEST_P(TransactionCatalogTest, APlainWriterWaitsForTheCreatingTransaction) {
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
  auto writer = std::async(std::launch::async, [&] { return c.InsertOne(J(R"({"_id": 2})")); });
  ASSERT_EQ(writer.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "the writer did not wait for the transaction";
  ASSERT_TRUE((*txn)->Commit().ok());
  ASSERT_TRUE(writer.get().ok());
  EXPECT_EQ(*c.CountDocuments(Document()), 2);
}

TEST_P(TransactionCatalogTest, APlainWriterAfterAnAbortCreatesAFreshCollection) {
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
  auto writer = std::async(std::launch::async, [&] { return c.InsertOne(J(R"({"_id": 2})")); });
  ASSERT_EQ(writer.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  (*txn)->Abort();
  ASSERT_TRUE(writer.get().ok());
  auto docs = c.FindOne(Document());
  ASSERT_TRUE(docs.ok() && docs->has_value());
  EXPECT_EQ(*c.CountDocuments(Document()), 1);
  EXPECT_EQ(testing::GetInt(**docs, "_id"), 2);
}

// createIndexes inside a transaction: on a collection it creates (or that does
// not exist yet), the index is the transaction's: used by its later writes,
// committed with it (unique enforced, listed, on disk), gone on abort.
TEST_P(TransactionCatalogTest, IndexesOnACollectionTheTransactionCreatesCommitWithIt) {
  Collection c = engine_->collection("db", "indexed");
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    auto created = c.CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1", "unique": true})")}, txn->get());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE(created->created_collection_automatically);
    EXPECT_EQ(created->num_indexes_before, 1);
    EXPECT_EQ(created->num_indexes_after, 2);
    EXPECT_FALSE(Listed("db", "indexed"));
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "a": 5})"), in_txn).ok());
    auto duplicate = c.InsertOne(J(R"({"_id": 2, "a": 5})"), in_txn);
    EXPECT_EQ(duplicate.status().code(), ErrorCode::kDuplicateKey);
  }  // destroyed without a commit: it aborts, and nothing it created is left
  EXPECT_FALSE(Listed("db", "indexed"));
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(engine_->CreateCollection("db", "indexed", txn->get()).ok());
    auto created = c.CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1", "unique": true})")}, txn->get());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_FALSE(created->created_collection_automatically);
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "a": 5})"), in_txn).ok());
    // Non-empty now: another index is refused, as MongoDB refuses it.
    auto refused = c.CreateIndexes({J(R"({"key": {"b": 1}, "name": "b_1"})")}, txn->get());
    EXPECT_EQ(refused.status().code(), ErrorCode::kOperationNotSupportedInTransaction);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto listed = c.ListIndexes();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  EXPECT_EQ(c.InsertOne(J(R"({"_id": 2, "a": 5})")).status().code(), ErrorCode::kDuplicateKey);
  if (GetParam() == Mode::kDisk) {
    Reopen();
    Collection reopened = engine_->collection("db", "indexed");
    EXPECT_EQ(reopened.ListIndexes()->size(), 2u);
    EXPECT_EQ(reopened.InsertOne(J(R"({"_id": 3, "a": 5})")).status().code(), ErrorCode::kDuplicateKey);
  }
}

TEST_P(TransactionCatalogTest, IndexesOnACommittedCollectionAreRefusedInATransaction) {
  Collection c = engine_->collection("db", "old");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "a": 1})")).ok());
  ASSERT_TRUE(c.CreateIndex(J(R"({"a": 1})")).ok());
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  auto refused = c.CreateIndexes({J(R"({"key": {"b": 1}, "name": "b_1"})")}, txn->get());
  EXPECT_EQ(refused.status().code(), ErrorCode::kOperationNotSupportedInTransaction);
  // An index it has already is no change: that succeeds.
  auto existing = c.CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1"})")}, txn->get());
  ASSERT_TRUE(existing.ok()) << existing.status().ToString();
  EXPECT_EQ(existing->num_indexes_before, existing->num_indexes_after);
  (*txn)->Abort();
  EXPECT_EQ(c.ListIndexes()->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Modes, TransactionCatalogTest, ::testing::Values(Mode::kMemory, Mode::kDisk),
                         testing::ModeName);

}  // namespace
}  // namespace docket

namespace docket {
namespace {

// A transaction's collection scan stops at the end of the collection: it ran
// on into the collection's index entries, reading them as documents, once the
// transaction had written index entries (found by the differential checker).
TEST(TransactionScanTest, AScanInsideATransactionStaysInItsCollection) {
  auto engine = Engine::Open({.in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("db", "c");
  ASSERT_TRUE(c.CreateIndex(testing::J(R"({"b": -1})")).ok());
  std::vector<Document> docs;
  for (int i = 0; i < 51; ++i) docs.push_back(testing::J("{\"_id\": " + std::to_string(i) + ", \"b\": " + std::to_string(i) + "}"));
  ASSERT_TRUE(c.InsertMany(docs).ok());
  auto txn = (*engine)->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  UpdateOptions update;
  update.write.transaction = txn->get();
  ASSERT_EQ(c.UpdateMany(testing::J("{}"), testing::J(R"({"$unset": {"b": ""}})"), update)->modified_count, 51);
  for (const char* sort : {"{}", R"({"_id": 1})", R"({"_id": -1})", R"({"b": 1})"}) {
    FindOptions find;
    find.read.transaction = txn->get();
    find.sort = testing::J(sort);
    auto cursor = c.Find(Document(), find);
    ASSERT_TRUE(cursor.ok());
    std::vector<Document> seen;
    while (!cursor->exhausted()) {
      for (Document& d : *cursor->NextBatch()) seen.push_back(std::move(d));
    }
    EXPECT_EQ(seen.size(), 51u) << sort;
    for (const Document& d : seen) {
      EXPECT_TRUE(Document::FromBytes(d.data(), d.size()).ok()) << sort;
      bson_iter_t b;
      EXPECT_FALSE(d.Find("b", &b)) << sort << ": " << d.ToJson();
    }
  }
  CountOptions count;
  count.read.transaction = txn->get();
  EXPECT_EQ(*c.CountDocuments(Document(), count), 51);
}

}  // namespace
}  // namespace docket
