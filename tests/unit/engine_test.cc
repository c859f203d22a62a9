#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::GetInt;
using testing::J;
using testing::Mode;

class CrudTest : public EngineTest {};

TEST_P(CrudTest, InsertWithoutIdGetsObjectIdFirst) {
  Collection c = engine_->collection("db", "c");
  auto r = c.InsertOne(J(R"({"a": 1})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto doc = c.FindOne(Document());
  ASSERT_TRUE(doc.ok() && *doc);
  bson_iter_t it;
  (*doc)->Iterate(&it);
  ASSERT_TRUE(bson_iter_next(&it));
  EXPECT_STREQ(bson_iter_key(&it), "_id");
  EXPECT_TRUE(BSON_ITER_HOLDS_OID(&it));
  bson_iter_t returned;
  ASSERT_TRUE(r->inserted_id.Find("_id", &returned));
  EXPECT_EQ(0, bson_oid_compare(bson_iter_oid(&it), bson_iter_oid(&returned)));
}

TEST_P(CrudTest, DuplicateKeyHasMongoDbMessageShape) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})")).ok());
  auto again = c.InsertOne(J(R"({"_id": 1})"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(again.status().message(), "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: 1 }");
  auto s = c.InsertOne(J(R"({"_id": "Prefix1"})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(c.InsertOne(J(R"({"_id": "Prefix1"})")).status().message(),
            "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: \"Prefix1\" }");
}

TEST_P(CrudTest, InsertManyOrderedStopsUnorderedContinues) {
  Collection c = engine_->collection("db", "c");
  std::vector<Document> docs = {J(R"({"_id": 1})"), J(R"({"_id": 1})"), J(R"({"_id": 2})"), J(R"({"_id": [3]})"),
                                J(R"({"_id": 4})")};
  auto ordered = c.InsertMany(docs);
  ASSERT_TRUE(ordered.ok());
  EXPECT_EQ(ordered->inserted_count, 1u);
  ASSERT_EQ(ordered->write_errors.size(), 1u);
  EXPECT_EQ(ordered->write_errors[0].index, 1u);
  EXPECT_EQ(ordered->write_errors[0].status.code(), ErrorCode::kDuplicateKey);

  Collection d = engine_->collection("db", "d");
  InsertManyOptions unordered;
  unordered.ordered = false;
  auto r = d.InsertMany(docs, unordered);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inserted_count, 3u);
  ASSERT_EQ(r->write_errors.size(), 2u);
  EXPECT_EQ(r->write_errors[0].index, 1u);
  EXPECT_EQ(r->write_errors[1].index, 3u);
  EXPECT_EQ(r->write_errors[1].status.code(), ErrorCode::kInvalidIdField);
  EXPECT_EQ(*d.CountDocuments(Document()), 3);
}

// InsertMany writes in groups of up to 1,000 documents per commit; errors keep
// their request index across groups and a failed document leaves its group's
// other documents in place.
TEST_P(CrudTest, InsertManyAcrossCommitGroups) {
  std::vector<Document> docs;
  for (int i = 0; i < 2500; ++i) docs.push_back(J("{\"_id\": " + std::to_string(i == 1500 ? 10 : i) + "}"));
  docs[2200] = J(R"({"_id": [2200]})");

  Collection ordered = engine_->collection("db", "ordered");
  auto r = ordered.InsertMany(docs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inserted_count, 1500u);
  ASSERT_EQ(r->write_errors.size(), 1u);
  EXPECT_EQ(r->write_errors[0].index, 1500u);
  EXPECT_EQ(r->write_errors[0].status.code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(*ordered.CountDocuments(Document()), 1500);
  EXPECT_EQ(*ordered.CountDocuments(J(R"({"_id": 1499})")), 1);

  Collection unordered = engine_->collection("db", "unordered");
  InsertManyOptions options;
  options.ordered = false;
  r = unordered.InsertMany(docs, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inserted_count, 2498u);
  ASSERT_EQ(r->write_errors.size(), 2u);
  EXPECT_EQ(r->write_errors[0].index, 1500u);
  EXPECT_EQ(r->write_errors[1].index, 2200u);
  EXPECT_EQ(r->write_errors[1].status.code(), ErrorCode::kInvalidIdField);
  EXPECT_EQ(*unordered.CountDocuments(Document()), 2498);
  ASSERT_EQ(r->inserted_ids.size(), 2498u);
  EXPECT_EQ(GetInt(r->inserted_ids[2497], "_id"), 2499);
}

TEST_P(CrudTest, OversizedDocumentIsRejectedAndNothingWritten) {
  Collection c = engine_->collection("db", "c");
  bson_t big = BSON_INITIALIZER;
  std::string payload(kMaxDocumentSize, 'x');
  bson_append_utf8(&big, "p", 1, payload.data(), static_cast<int>(payload.size()));
  auto doc = Document::FromBson(&big);
  bson_destroy(&big);
  ASSERT_TRUE(doc.ok());
  auto r = c.InsertOne(*doc);
  EXPECT_EQ(r.status().code(), ErrorCode::kBSONObjectTooLarge);
  EXPECT_EQ(*c.CountDocuments(Document()), 0);
}

TEST_P(CrudTest, UpdateThatOutgrowsTheLimitFails) {
  Collection c = engine_->collection("db", "c");
  std::string half(kMaxDocumentSize / 2 + 10, 'y');
  bson_t b = BSON_INITIALIZER;
  BSON_APPEND_INT32(&b, "_id", 1);
  bson_append_utf8(&b, "a", 1, half.data(), static_cast<int>(half.size()));
  ASSERT_TRUE(c.InsertOne(*Document::FromBson(&b)).ok());
  bson_t u = BSON_INITIALIZER, set;
  bson_append_document_begin(&u, "$set", 4, &set);
  bson_append_utf8(&set, "b", 1, half.data(), static_cast<int>(half.size()));
  bson_append_document_end(&u, &set);
  auto r = c.UpdateOne(J(R"({"_id": 1})"), *Document::FromBson(&u));
  bson_destroy(&b);
  bson_destroy(&u);
  EXPECT_EQ(r.status().code(), ErrorCode::kBSONObjectTooLargeAfterUpdate);
  auto doc = c.FindOne(J(R"({"_id": 1})"));
  bson_iter_t it;
  EXPECT_FALSE((*doc)->Find("b", &it));
}

TEST_P(CrudTest, InvalidBsonIsRejectedAtTheBoundary) {
  const uint8_t truncated[] = {12, 0, 0, 0, 0x10, 'a', 0, 1, 0};
  EXPECT_EQ(Document::FromBytes(truncated, sizeof(truncated)).status().code(), ErrorCode::kInvalidBSON);
  const uint8_t bad_type[] = {12, 0, 0, 0, 0x7A, 'a', 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(Document::FromBytes(bad_type, sizeof(bad_type)).status().code(), ErrorCode::kInvalidBSON);
}

TEST_P(CrudTest, UpdateResultCountsMatchedModifiedAndUpserted) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "a": 1})")).ok());
  auto same = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"a": 1}})"));
  EXPECT_EQ(same->matched_count, 1);
  EXPECT_EQ(same->modified_count, 0);
  auto changed = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"a": 2}})"));
  EXPECT_EQ(changed->modified_count, 1);
  UpdateOptions upsert;
  upsert.upsert = true;
  auto inserted = c.UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"a": 2}})"), upsert);
  EXPECT_EQ(inserted->matched_count, 0);
  ASSERT_TRUE(inserted->upserted_id.has_value());
  EXPECT_EQ(GetInt(*inserted->upserted_id, "_id"), 2);
}

TEST_P(CrudTest, CurrentDateSetsNowAsDateOrTimestamp) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})")).ok());
  int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  // Built by hand: libbson's JSON reader takes {"$type": ...} for legacy binary.
  bson_t* spec = BCON_NEW("$currentDate", "{", "d", BCON_BOOL(true), "t", "{", "$type", BCON_UTF8("timestamp"), "}",
                          "e", "{", "$type", BCON_UTF8("date"), "}", "}");
  Document update = *Document::FromBson(spec);
  bson_destroy(spec);
  auto r = c.UpdateOne(J(R"({"_id": 1})"), update);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int64_t after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  auto doc = c.FindOne(Document());
  ASSERT_TRUE(doc.ok() && *doc);
  bson_iter_t d, t, e;
  ASSERT_TRUE((*doc)->Find("d", &d) && (*doc)->Find("t", &t) && (*doc)->Find("e", &e));
  ASSERT_TRUE(BSON_ITER_HOLDS_DATE_TIME(&d));
  ASSERT_TRUE(BSON_ITER_HOLDS_DATE_TIME(&e));
  ASSERT_TRUE(BSON_ITER_HOLDS_TIMESTAMP(&t));
  EXPECT_GE(bson_iter_date_time(&d), before_ms);
  EXPECT_LE(bson_iter_date_time(&d), after_ms);
  EXPECT_EQ(bson_iter_date_time(&d), bson_iter_date_time(&e)) << "one clock reading per update";
  uint32_t seconds = 0, increment = 0;
  bson_iter_timestamp(&t, &seconds, &increment);
  EXPECT_GE(static_cast<int64_t>(seconds), before_ms / 1000);
  EXPECT_LE(static_cast<int64_t>(seconds), after_ms / 1000);
}

TEST_P(CrudTest, CursorStreamsInBatches) {
  Collection c = engine_->collection("db", "c");
  std::vector<Document> docs;
  for (int i = 0; i < 250; ++i) docs.push_back(J("{\"_id\": " + std::to_string(i) + "}"));
  ASSERT_EQ(c.InsertMany(docs)->inserted_count, 250u);
  FindOptions options;
  options.batch_size = 100;
  auto cursor = c.Find(Document(), options);
  ASSERT_TRUE(cursor.ok());
  std::vector<size_t> sizes;
  int64_t expected_id = 0;
  while (true) {
    auto batch = cursor->NextBatch();
    ASSERT_TRUE(batch.ok());
    if (batch->empty()) break;
    sizes.push_back(batch->size());
    for (const Document& d : *batch) EXPECT_EQ(GetInt(d, "_id"), expected_id++);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 50}));
  EXPECT_TRUE(cursor->exhausted());
}

TEST_P(CrudTest, EstimatedCountAndDistinct) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertMany({J(R"({"k": 1})"), J(R"({"k": 2})"), J(R"({"k": 1})")})->write_errors.empty());
  EXPECT_EQ(*c.EstimatedDocumentCount(), 3);
  auto values = c.Distinct("k", Document());
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->ToJson(), R"({ "values" : [ 1, 2 ] })");
  EXPECT_EQ(*engine_->collection("db", "missing").EstimatedDocumentCount(), 0);
}

class CatalogTest : public EngineTest {};

TEST_P(CatalogTest, ImplicitCreateListDropAndRename) {
  EXPECT_TRUE(engine_->ListDatabases().empty());
  ASSERT_TRUE(engine_->collection("shop", "orders").InsertOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(engine_->CreateCollection("shop", "items").ok());
  EXPECT_EQ(engine_->CreateCollection("shop", "items").code(), ErrorCode::kNamespaceExists);
  EXPECT_EQ(engine_->ListDatabases(), std::vector<std::string>{"shop"});
  auto names = engine_->ListCollections("shop");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].name, "items");
  EXPECT_EQ(names[1].name, "orders");

  ASSERT_TRUE(engine_->RenameCollection("shop", "orders", "archive", "orders2024").ok());
  EXPECT_EQ(*engine_->collection("shop", "orders").CountDocuments(Document()), 0);
  EXPECT_EQ(*engine_->collection("archive", "orders2024").CountDocuments(Document()), 1);
  EXPECT_EQ(engine_->RenameCollection("shop", "nope", "shop", "x").code(), ErrorCode::kNamespaceNotFound);
  ASSERT_TRUE(engine_->collection("shop", "a").InsertOne(J(R"({"_id": 1})")).ok());
  EXPECT_EQ(engine_->RenameCollection("shop", "a", "shop", "items").code(), ErrorCode::kNamespaceExists);
  ASSERT_TRUE(engine_->RenameCollection("shop", "a", "shop", "items", /*drop_target=*/true).ok());

  ASSERT_TRUE(engine_->DropCollection("archive", "orders2024").ok());
  EXPECT_EQ(engine_->DropCollection("archive", "orders2024").code(), ErrorCode::kNamespaceNotFound);
  EXPECT_EQ(engine_->ListDatabases(), std::vector<std::string>{"shop"});
  ASSERT_TRUE(engine_->DropDatabase("shop").ok());
  EXPECT_TRUE(engine_->ListDatabases().empty());
}

TEST_P(CatalogTest, DropRemovesDataAndARecreatedCollectionStartsEmpty) {
  Collection c = engine_->collection("db", "c");
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + "}")).ok());
  ASSERT_TRUE(engine_->DropCollection("db", "c").ok());
  EXPECT_EQ(*c.CountDocuments(Document()), 0);
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 5})")).ok());
  EXPECT_EQ(*c.CountDocuments(Document()), 1);
}

// compact on one collection: after most of its documents are deleted it
// reports the bytes its files shed, and what is left (and the other
// collection) reads back whole, through its index too.
TEST_P(CatalogTest, CompactCollectionFreesDeletedSpaceAndKeepsTheRest) {
  Collection kept = engine_->collection("db", "kept");
  Collection thinned = engine_->collection("db", "thinned");
  ASSERT_TRUE(thinned.CreateIndex(J(R"({"n": 1})")).ok());
  std::mt19937_64 random(5);
  std::vector<Document> docs;
  for (int i = 0; i < 2000; ++i) {
    std::string pad;  // 200 bytes that do not compress
    while (pad.size() < 200) pad += std::to_string(random());
    pad.resize(200);
    docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"n\": " + std::to_string(i) + ", \"pad\": \"" + pad + "\"}"));
  }
  ASSERT_TRUE(kept.InsertMany(docs).ok());
  ASSERT_TRUE(thinned.InsertMany(docs).ok());
  ASSERT_TRUE(engine_->Compact().ok());  // everything in table files, in memory too
  auto removed = thinned.DeleteMany(J(R"({"n": {"$gte": 100}})"));
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed->deleted_count, 1900);
  auto freed = engine_->CompactCollection("db", "thinned");
  ASSERT_TRUE(freed.ok()) << freed.status().ToString();
  EXPECT_GT(*freed, 1900 * 200) << "the deleted documents' bytes should be gone";
  auto count = thinned.CountDocuments(J(R"({"n": {"$lt": 1000}})"));  // through the index
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 100);
  auto all_kept = kept.CountDocuments(Document());
  ASSERT_TRUE(all_kept.ok());
  EXPECT_EQ(*all_kept, 2000);
  auto again = engine_->CompactCollection("db", "thinned");  // nothing left to free
  ASSERT_TRUE(again.ok());
  EXPECT_LT(*again, 1900 * 200);
  auto missing = engine_->CompactCollection("db", "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNamespaceNotFound);
}

TEST_P(CatalogTest, NamespacesAreValidatedWithMongoDbRules) {
  for (const char* db : {"", "a.b", "a b", "a$b", "a/b", "a\"b"}) {
    EXPECT_EQ(engine_->collection(db, "c").InsertOne(J("{}")).status().code(), ErrorCode::kInvalidNamespace) << db;
  }
  for (const char* name : {"", "a$b", "system.users", ".x"}) {
    EXPECT_EQ(engine_->collection("db", name).InsertOne(J("{}")).status().code(), ErrorCode::kInvalidNamespace)
        << name;
  }
  EXPECT_EQ(engine_->collection(std::string(64, 'd'), "c").InsertOne(J("{}")).status().code(),
            ErrorCode::kInvalidNamespace);
  EXPECT_EQ(engine_->collection("db", std::string(300, 'c')).InsertOne(J("{}")).status().code(),
            ErrorCode::kInvalidNamespace);
  EXPECT_TRUE(engine_->ListDatabases().empty());
}

TEST_P(CatalogTest, DataAndCatalogSurviveReopen) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "memory engines do not persist";
  ASSERT_TRUE(engine_->collection("db", "c").InsertOne(J(R"({"_id": 1, "v": "kept"})")).ok());
  ASSERT_TRUE(engine_->collection("db", "gone").InsertOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(engine_->DropCollection("db", "gone").ok());
  Reopen();
  auto doc = engine_->collection("db", "c").FindOne(J(R"({"_id": 1})"));
  ASSERT_TRUE(doc.ok() && *doc);
  EXPECT_EQ((*doc)->ToJson(), R"({ "_id" : 1, "v" : "kept" })");
  auto names = engine_->ListCollections("db");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].name, "c");
  // Ids are not reused: a new collection does not see the dropped one's data.
  EXPECT_EQ(*engine_->collection("db", "gone").CountDocuments(Document()), 0);
}

class TransactionTest : public EngineTest {};

TEST_P(TransactionTest, CommitMakesWritesVisibleAbortDiscardsThem) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 0})")).ok());  // create outside
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
    ReadOptions read;
    read.transaction = txn->get();
    CountOptions count;
    count.read = read;
    EXPECT_EQ(*c.CountDocuments(Document(), count), 2);  // own write visible inside
    EXPECT_EQ(*c.CountDocuments(Document()), 1);         // not outside
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(*c.CountDocuments(Document()), 2);
  {
    auto txn = engine_->BeginTransaction();
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})"), in_txn).ok());
    (*txn)->Abort();
  }
  EXPECT_EQ(*c.CountDocuments(Document()), 2);
}

TEST_P(TransactionTest, SnapshotIsTakenAtTheFirstReadAndLaterChangesConflict) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "n": 0})")).ok());
  auto t1 = engine_->BeginTransaction();
  ReadOptions r1;
  r1.transaction = t1->get();
  FindOptions f1;
  f1.read = r1;
  // Written after the begin but before the first read: the snapshot has it.
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})")).ok());
  EXPECT_EQ(GetInt(**c.FindOne(J(R"({"_id": 1})"), f1), "n"), 1);
  // Written after the first read: the transaction's write conflicts.
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})")).ok());
  EXPECT_EQ(GetInt(**c.FindOne(J(R"({"_id": 1})"), f1), "n"), 1) << "the snapshot moved";
  UpdateOptions u1;
  u1.write.transaction = t1->get();
  auto r = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 10}})"), u1);
  EXPECT_EQ(r.status().code(), ErrorCode::kWriteConflict);
}

TEST_P(TransactionTest, ALockHeldByAnotherTransactionConflictsAfterTheFirstRead) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "n": 0})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2, "n": 0})")).ok());
  auto holder = engine_->BeginTransaction();
  UpdateOptions in_holder;
  in_holder.write.transaction = holder->get();
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 2})"), J(R"({"$inc": {"n": 1}})"), in_holder).ok());
  auto t = engine_->BeginTransaction();
  UpdateOptions in_t;
  in_t.write.transaction = t->get();
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})"), in_t).ok());
  // _id 2 is locked by an open transaction: no wait, a WriteConflict.
  EXPECT_EQ(c.UpdateOne(J(R"({"_id": 2})"), J(R"({"$inc": {"n": 1}})"), in_t).status().code(),
            ErrorCode::kWriteConflict);
  ASSERT_TRUE((*holder)->Commit().ok());
}

// A transaction that starts on a document another transaction holds queues
// for it and then reads the committed version: no conflict, no lost update.
TEST_P(TransactionTest, AFirstLockWaitsForTheHolderInsteadOfConflicting) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "n": 0})")).ok());
  auto holder = engine_->BeginTransaction();
  UpdateOptions in_holder;
  in_holder.write.transaction = holder->get();
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})"), in_holder).ok());
  std::atomic<int> attempts{0};
  Status waiter_status;
  std::thread waiter([&] {
    waiter_status = engine_->WithTransaction([&](Transaction& txn) -> Status {
      ++attempts;
      UpdateOptions options;
      options.write.transaction = &txn;
      return c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 10}})"), options).status();
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the waiter reach the lock
  ASSERT_TRUE((*holder)->Commit().ok());
  waiter.join();
  ASSERT_TRUE(waiter_status.ok()) << waiter_status.ToString();
  EXPECT_EQ(attempts.load(), 1);
  EXPECT_EQ(GetInt(**c.FindOne(J(R"({"_id": 1})")), "n"), 11);
}

TEST_P(TransactionTest, WithTransactionRetriesUntilItCommits) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "n": 0})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})")).ok());
  int attempts = 0;
  Status s = engine_->WithTransaction([&](Transaction& txn) -> Status {
    ++attempts;
    FindOptions find;
    find.read.transaction = &txn;
    auto first = c.FindOne(J(R"({"_id": 2})"), find);  // takes the snapshot
    if (!first.ok()) return first.status();
    if (attempts == 1) {
      // Someone else changes the document between our snapshot and our write.
      auto other = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 100}})"));
      if (!other.ok()) return other.status();
    }
    UpdateOptions options;
    options.write.transaction = &txn;
    auto r = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})"), options);
    return r.status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(GetInt(**c.FindOne(J(R"({"_id": 1})")), "n"), 101);
}

// With a row cache, a point read after a write on the same thread sees the
// write: updates, deletes, a dropped and re-created index and collection
// (range deletions), each read back by _id and through the unique index
// right after it returned, with the row cached from the read before.
TEST(RowCacheReadAfterWriteTest, PointReadsSeeTheWriteThatJustReturned) {
  auto opened = Engine::Open({.in_memory = true, .row_cache_bytes = 1 << 20});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Engine> engine = std::move(opened).value();
  Collection c = engine->collection("app", "items");
  ASSERT_TRUE(c.CreateIndex(J(R"({"sku": 1})"), /*unique=*/true).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "sku": "a", "n": 0})")).ok());
  auto n_by = [&](const char* filter) -> int64_t {
    auto found = c.FindOne(J(filter));
    if (!found.ok() || !found->has_value()) return -1;
    return GetInt(**found, "n");
  };
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"n": 1}})")).ok());
    ASSERT_EQ(n_by(R"({"_id": 1})"), i);
    ASSERT_EQ(n_by(R"({"sku": "a"})"), i);
  }
  ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 1})")).ok());
  EXPECT_EQ(n_by(R"({"_id": 1})"), -1);
  EXPECT_EQ(n_by(R"({"sku": "a"})"), -1);
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "sku": "a", "n": 100})")).ok());
  EXPECT_EQ(n_by(R"({"sku": "a"})"), 100);
  ASSERT_TRUE(c.DropIndex("sku_1").ok());
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"n": 101}})")).ok());
  ASSERT_TRUE(c.CreateIndex(J(R"({"sku": 1})"), /*unique=*/true).ok());
  EXPECT_EQ(n_by(R"({"sku": "a"})"), 101);
  ASSERT_TRUE(engine->DropCollection("app", "items").ok());
  EXPECT_EQ(n_by(R"({"_id": 1})"), -1);
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "sku": "b", "n": 200})")).ok());
  EXPECT_EQ(n_by(R"({"_id": 1})"), 200);
  // A plain index: its ranges are cached as lists of entries.
  ASSERT_TRUE(c.CreateIndex(J(R"({"tag": 1})")).ok());
  auto count = [&](const char* filter) -> int64_t {
    auto found = c.Find(J(filter));
    if (!found.ok()) return -1;
    auto rows = found->ToVector();
    return rows.ok() ? static_cast<int64_t>(rows->size()) : -1;
  };
  EXPECT_EQ(count(R"({"tag": "x"})"), 0);
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2, "tag": "x"})")).ok());
  EXPECT_EQ(count(R"({"tag": "x"})"), 1);
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 3, "tag": "x"})")).ok());
  EXPECT_EQ(count(R"({"tag": "x"})"), 2);
  EXPECT_EQ(count(R"({"tag": {"$in": ["x", "y"]}})"), 2);
  ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"tag": "y"}})")).ok());
  EXPECT_EQ(count(R"({"tag": "x"})"), 1);
  EXPECT_EQ(count(R"({"tag": "y"})"), 1);
  EXPECT_EQ(count(R"({"tag": {"$in": ["x", "y"]}})"), 2);
  ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 3})")).ok());
  EXPECT_EQ(count(R"({"tag": "x"})"), 0);
  EXPECT_EQ(count(R"({"tag": {"$in": ["x", "y"]}})"), 1);
}

// With a row cache, point reads (by _id, and a unique index's entries) must
// still see every committed write and read each query at one snapshot: while
// transfers between accounts commit and compactions move rows into table
// files (where the row cache serves them), every read of all accounts through
// the unique index adds up to the same total, and after the writers stop each
// balance is the one a scan reads.
class RowCacheTest : public ::testing::TestWithParam<Mode> {};

TEST_P(RowCacheTest, PointReadsSeeEveryCommitAndOneSnapshot) {
  testing::TempDir dir;
  auto opened = Engine::Open({.path = dir.path(), .in_memory = GetParam() == Mode::kMemory,
                              .row_cache_bytes = 64 << 10});  // small: rows are evicted too
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Engine> engine = std::move(opened).value();
  Collection c = engine->collection("bank", "accounts");
  ASSERT_TRUE(c.CreateIndex(J(R"({"number": 1})"), /*unique=*/true).ok());
  // A plain index whose entries every transfer moves: its ranges are cached
  // as lists of entries, which each transfer must hide.
  ASSERT_TRUE(c.CreateIndex(J(R"({"branch": 1})")).ok());
  constexpr int kAccounts = 8;
  constexpr int64_t kStart = 1000;
  std::string numbers;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + ", \"number\": \"acct-" + std::to_string(i) +
                              "\", \"branch\": " + std::to_string(i % 3) + ", \"balance\": " + std::to_string(kStart) +
                              "}")).ok());
    numbers += std::string(i ? ", " : "") + "\"acct-" + std::to_string(i) + "\"";
  }
  const Document all = J("{\"number\": {\"$in\": [" + numbers + "]}}");
  const Document all_branches = J(R"({"branch": {"$in": [0, 1, 2]}})");
  ASSERT_TRUE(engine->Compact().ok());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> transfers{0}, bad_sums{0}, reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 400; ++i) {
      int from = i % kAccounts, to = (i * 3 + 1) % kAccounts;
      if (from == to) continue;
      Status s = engine->WithTransaction([&](Transaction& txn) -> Status {
        UpdateOptions options;
        options.write.transaction = &txn;
        auto a = c.UpdateOne(J("{\"_id\": " + std::to_string(from) + "}"),
                             J("{\"$inc\": {\"balance\": -7}, \"$set\": {\"branch\": " + std::to_string(i % 3) + "}}"),
                             options);
        if (!a.ok()) return a.status();
        auto b = c.UpdateOne(J("{\"_id\": " + std::to_string(to) + "}"), J(R"({"$inc": {"balance": 7}})"), options);
        return b.status();
      });
      if (s.ok()) ++transfers;
    }
  });
  std::thread compactor([&] {
    while (!stop.load()) {
      EXPECT_TRUE(engine->Compact().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::thread reader([&] {
    for (int round = 0; !stop.load(); ++round) {
      auto found = c.Find(round % 2 ? all : all_branches);
      if (!found.ok()) continue;
      auto rows = found->ToVector();
      if (!rows.ok() || rows->size() != kAccounts) {
        ++bad_sums;
        continue;
      }
      int64_t sum = 0;
      for (const Document& d : *rows) sum += GetInt(d, "balance");
      if (sum != kAccounts * kStart) ++bad_sums;
      ++reads;
    }
  });
  writer.join();
  stop = true;
  compactor.join();
  reader.join();
  EXPECT_EQ(bad_sums.load(), 0) << "a read through an index saw a half-done transfer or lost an account";
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(transfers.load(), 0);
  // Settled: what point reads return is what a scan of the table reads.
  ASSERT_TRUE(engine->Compact().ok());
  auto scanned = c.Find(J("{}"));
  ASSERT_TRUE(scanned.ok());
  auto rows = scanned->ToVector();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(kAccounts));
  for (const Document& row : *rows) {
    for (int twice = 0; twice < 2; ++twice) {  // the second read is served from the row cache
      bson_iter_t number;
      ASSERT_TRUE(row.Find("number", &number));
      auto by_number = c.FindOne(J(std::string("{\"number\": \"") + bson_iter_utf8(&number, nullptr) + "\"}"));
      auto by_id = c.FindOne(J("{\"_id\": " + std::to_string(GetInt(row, "_id")) + "}"));
      ASSERT_TRUE(by_number.ok() && by_number->has_value() && by_id.ok() && by_id->has_value());
      EXPECT_EQ((*by_number)->ToJson(), row.ToJson());
      EXPECT_EQ((*by_id)->ToJson(), row.ToJson());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, CrudTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);
INSTANTIATE_TEST_SUITE_P(Modes, CatalogTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);
INSTANTIATE_TEST_SUITE_P(Modes, TransactionTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);
INSTANTIATE_TEST_SUITE_P(Modes, RowCacheTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
