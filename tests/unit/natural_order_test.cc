// Natural order: a collection scan returns documents in the order they were
// inserted, as MongoDB's COLLSCAN does; $natural as a sort and as a hint;
// the order survives updates, transactions, restarts and the upgrade from
// storage format version 1; validate checks it.
#include <gtest/gtest.h>
#include <rocksdb/utilities/transaction_db.h>

#include <string>
#include <thread>
#include <vector>

#include "engine/engine_impl.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/store.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

// The _id (an int) of every document the find returns, in order.
std::vector<int> Ids(Collection& c, const Document& filter = Document(), FindOptions options = {}) {
  std::vector<int> out;
  auto cursor = c.Find(filter, options);
  EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
  if (!cursor.ok()) return out;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    EXPECT_TRUE(batch.ok());
    if (!batch.ok()) break;
    for (const Document& d : *batch) {
      bson_iter_t id;
      EXPECT_TRUE(d.Find("_id", &id));
      out.push_back(static_cast<int>(bson_iter_as_int64(&id)));
    }
  }
  return out;
}

FindOptions Sorted(const char* sort, const char* hint = nullptr) {
  FindOptions options;
  options.sort = J(sort);
  if (hint != nullptr) options.hint.key_pattern = J(hint);
  return options;
}

FindOptions Hinted(const char* hint) {
  FindOptions options;
  options.hint.key_pattern = J(hint);
  return options;
}

class NaturalOrderTest : public EngineTest {
 protected:
  Collection C() { return engine_->collection("db", "c"); }
  void Insert(std::initializer_list<int> ids) {
    Collection c = C();
    for (int id : ids) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(id) + ", \"v\": 1}")).ok());
  }
};

TEST_P(NaturalOrderTest, ScansReturnInsertionOrderNotIdOrder) {
  Insert({3, 1, 2});
  Collection c = C();
  EXPECT_EQ(Ids(c), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(Ids(c, J(R"({"v": 1})")), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(Ids(c, J(R"({"_id": {"$gte": 2}})")), (std::vector<int>{3, 2}));
  EXPECT_EQ(Ids(c, Document(), Sorted(R"({"$natural": 1})")), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(Ids(c, Document(), Sorted(R"({"$natural": -1})")), (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(Ids(c, Document(), Hinted(R"({"$natural": -1})")), (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(Ids(c, Document(), Sorted(R"({"$natural": -1})", R"({"$natural": -1})")), (std::vector<int>{2, 1, 3}));
  // The _id index gives _id order.
  EXPECT_EQ(Ids(c, Document(), Hinted(R"({"_id": 1})")), (std::vector<int>{1, 2, 3}));
  // A limit reads only the first few, in order, both ways.
  FindOptions first = Sorted(R"({"$natural": -1})");
  first.limit = 2;
  EXPECT_EQ(Ids(c, Document(), first), (std::vector<int>{2, 1}));
}

TEST_P(NaturalOrderTest, UpdatesKeepThePlaceAndReinsertsGoLast) {
  Insert({5, 4, 6, 7});
  Collection c = C();
  // A document that grows a lot keeps its place (its sequence number).
  const std::string grown = "{\"$set\": {\"big\": \"" + std::string(4096, 'x') + "\"}}";
  ASSERT_EQ(c.UpdateOne(J(R"({"_id": 4})"), J(grown))->modified_count, 1);
  ASSERT_EQ(c.ReplaceOne(J(R"({"_id": 6})"), J(R"({"v": 2})"))->modified_count, 1);
  EXPECT_EQ(Ids(c), (std::vector<int>{5, 4, 6, 7}));
  ASSERT_EQ(c.DeleteOne(J(R"({"_id": 5})"))->deleted_count, 1);
  Insert({5});
  EXPECT_EQ(Ids(c), (std::vector<int>{4, 6, 7, 5}));
  // updateOne and deleteOne without a sort take the first in natural order, as MongoDB.
  ASSERT_EQ(c.UpdateOne(J(R"({"v": 1})"), J(R"({"$set": {"first": true}})"))->modified_count, 1);
  EXPECT_EQ(Ids(c, J(R"({"first": true})")), (std::vector<int>{4}));
  FindAndModifyOptions last;
  last.sort = J(R"({"$natural": -1})");
  auto removed = c.FindOneAndDelete(J(R"({"v": 1})"), last);
  ASSERT_TRUE(removed.ok() && removed->has_value()) << removed.status().ToString();
  bson_iter_t id;
  ASSERT_TRUE((*removed)->Find("_id", &id));
  EXPECT_EQ(bson_iter_as_int64(&id), 5);
  EXPECT_EQ(Ids(c), (std::vector<int>{4, 6, 7}));
  EXPECT_TRUE(c.Validate()->valid());
}

TEST_P(NaturalOrderTest, NaturalSortAndHintErrorsAreMongoDbs) {
  Insert({1, 2});
  Collection c = C();
  ASSERT_TRUE(c.CreateIndex(J(R"({"v": 1})")).ok());
  auto check = [&](FindOptions options, const std::string& message) {
    auto cursor = c.Find(Document(), options);
    ASSERT_FALSE(cursor.ok());
    EXPECT_EQ(cursor.status().code(), ErrorCode::kBadValue);
    EXPECT_NE(cursor.status().message().find(message), std::string::npos) << cursor.status().message();
  };
  check(Sorted(R"({"$natural": 1, "v": 1})"), "Cannot include '$natural' in compound sort");
  check(Sorted(R"({"$natural": 1})", R"({"v": 1})"), "index hint not allowed with $natural sort order");
  check(Sorted(R"({"$natural": 1})", R"({"$natural": -1})"),
        "$natural hint must be in the same direction as $natural sort order");
  check(Hinted(R"({"$natural": 1, "v": 1})"), "Cannot include '$natural' in compound hint");
  FindOptions named = Sorted(R"({"$natural": 1})");
  named.hint.name = "v_1";
  check(named, "index hint not allowed with $natural sort order");
}

TEST_P(NaturalOrderTest, TransactionsSeeTheirOwnInsertsInOrderAndAbortLeavesNothing) {
  Insert({10});
  Collection c = C();
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 3})"), in_txn).ok());
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1})"), in_txn).ok());
    FindOptions read;
    read.read.transaction = txn->get();
    EXPECT_EQ(Ids(c, Document(), read), (std::vector<int>{10, 3, 1}));
    read.sort = J(R"({"$natural": -1})");
    EXPECT_EQ(Ids(c, Document(), read), (std::vector<int>{1, 3, 10}));
    (*txn)->Abort();
  }
  EXPECT_EQ(Ids(c), (std::vector<int>{10}));
  EXPECT_TRUE(c.Validate()->valid());
  {
    auto txn = engine_->BeginTransaction();
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})"), in_txn).ok());
    ASSERT_TRUE(c.DeleteOne(J(R"({"_id": 10})"), in_txn).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(Ids(c), (std::vector<int>{2}));
  EXPECT_TRUE(c.Validate()->valid());
}

TEST_P(NaturalOrderTest, ConcurrentInsertersEachKeepTheirOrder) {
  constexpr int kThreads = 4, kEach = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      Collection c = C();
      // Descending _ids per thread, so that _id order is not insertion order.
      for (int i = kEach - 1; i >= 0; --i) {
        ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(t * 10000 + i) + "}")).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Collection c = C();
  std::vector<int> ids = Ids(c);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int> last(kThreads, kEach);
  for (int id : ids) {
    const int t = id / 10000, i = id % 10000;
    EXPECT_LT(i, last[t]) << "thread " << t << "'s inserts out of order";
    last[t] = i;
  }
  EXPECT_TRUE(c.Validate()->valid());
}

TEST_P(NaturalOrderTest, OrderSurvivesARestartAndLaterInsertsComeAfter) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Insert({3, 1, 2});
  Reopen();
  Insert({0});
  Collection c = C();
  EXPECT_EQ(Ids(c), (std::vector<int>{3, 1, 2, 0}));
  EXPECT_TRUE(c.Validate()->valid());
}

// Rewrites the database as storage format version 1 wrote it: records are
// the BSON alone, no natural-order entries, no sequence reservation.
void DowngradeToVersion1(rocksdb::DB* db) {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const char prefix = it->key()[0];
    if (prefix == storage::kRecordPrefix) {
      batch.Put(it->key(), storage::RecordDocument(std::string_view(it->value().data(), it->value().size())));
    } else if (prefix == storage::kNaturalPrefix) {
      batch.Delete(it->key());
    }
  }
  batch.Delete(storage::MetaKey("record_seq_reserved"));
  batch.Put(storage::MetaKey("format_version"), "1");
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
}

TEST_P(NaturalOrderTest, AVersion1DatabaseIsUpgradedOnOpen) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Insert({3, 1, 2});
  {
    Collection c = C();
    ASSERT_TRUE(c.CreateIndex(J(R"({"v": 1})")).ok());
  }
  DowngradeToVersion1(engine_->impl()->db());
  Reopen();
  EXPECT_EQ(engine_->impl()->store->upgraded_records(), 3u);
  Collection c = C();
  // Version 1 kept no insertion order: the upgrade orders by _id.
  EXPECT_EQ(Ids(c), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Ids(c, J(R"({"v": 1})")), (std::vector<int>{1, 2, 3}));
  Insert({0});
  EXPECT_EQ(Ids(c), (std::vector<int>{1, 2, 3, 0}));
  EXPECT_TRUE(c.Validate()->valid());
  // Opening again changes nothing.
  Reopen();
  EXPECT_EQ(engine_->impl()->store->upgraded_records(), 0u);
  Collection again = C();
  EXPECT_EQ(Ids(again), (std::vector<int>{1, 2, 3, 0}));
}

TEST_P(NaturalOrderTest, ANewerFormatIsRefused) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Insert({1});
  ASSERT_TRUE(engine_->impl()->db()->Put(rocksdb::WriteOptions(), storage::MetaKey("format_version"), "99").ok());
  engine_.reset();
  auto opened = Engine::Open({.path = dir_.path()});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidOptions);
  EXPECT_NE(opened.status().message().find("storage format version 99"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Modes, NaturalOrderTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
