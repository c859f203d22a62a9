// Capped collections: MongoDB 6.0's create rules, the oldest documents
// removed on insert past either limit (never the one inserted), index
// entries removed with them, exact counters under concurrent inserters,
// updates and deletes counted, writes in transactions refused, limits kept
// across a restart, cloneCollectionAsCapped and convertToCapped.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

std::vector<int64_t> Ids(Collection& c, FindOptions options = {}) {
  std::vector<int64_t> out;
  auto docs = c.Find(Document(), options)->ToVector();
  EXPECT_TRUE(docs.ok());
  for (const Document& d : *docs) {
    bson_iter_t id;
    EXPECT_TRUE(d.Find("_id", &id));
    out.push_back(bson_iter_as_int64(&id));
  }
  return out;
}

CollectionOptions Capped(int64_t size, std::optional<int64_t> max = std::nullopt) {
  CollectionOptions options;
  options.capped = true;
  options.size = size;
  options.max = max;
  return options;
}

// A document of exactly `bytes` bytes: {_id: id (int64), p: "x..."}.
Document Sized(int64_t id, size_t bytes) {
  // 4 (length) + 1+4+8 (_id int64) + 1+2+4 ("p" string header) + 1 (string NUL) + 1 (end) = 26
  return J("{\"_id\": {\"$numberLong\": \"" + std::to_string(id) + "\"}, \"p\": \"" + std::string(bytes - 26, 'x') + "\"}");
}

class CappedTest : public EngineTest {};

TEST_P(CappedTest, CreateChecksAndNormalisesAsMongoDb60) {
  auto code = [&](const char* name, CollectionOptions options) {
    return engine_->CreateCollection("db", name, options).code();
  };
  CollectionOptions no_size;
  no_size.capped = true;
  EXPECT_EQ(code("a", no_size), ErrorCode::kInvalidOptions);
  CollectionOptions size_only;
  size_only.size = 4096;
  EXPECT_EQ(code("b", size_only), ErrorCode::kInvalidOptions);
  EXPECT_EQ(code("c", Capped(0)), ErrorCode::kIdlValueOutOfRange);
  EXPECT_EQ(code("d", Capped(-5)), ErrorCode::kIdlValueOutOfRange);
  EXPECT_EQ(code("e", Capped((int64_t{1} << 50) + 1)), ErrorCode::kBadValue);
  EXPECT_EQ(code("f", Capped(4096, int64_t{1} << 31)), ErrorCode::kBadValue);
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(engine_->CreateCollection("db", "g", Capped(4096), txn->get()).code(),
            ErrorCode::kOperationNotSupportedInTransaction);
  (*txn)->Abort();
  EXPECT_TRUE(engine_->ListCollections("db").empty()) << "a refused create left a collection";

  ASSERT_TRUE(engine_->CreateCollection("db", "small", Capped(1)).ok());
  ASSERT_TRUE(engine_->CreateCollection("db", "odd", Capped(5000, 0)).ok());
  ASSERT_TRUE(engine_->CreateCollection("db", "max", Capped(8192, 3)).ok());
  ASSERT_TRUE(engine_->CreateCollection("db", "plain").ok());
  for (const CollectionInfo& info : engine_->ListCollections("db")) {
    if (info.name == "small") EXPECT_EQ(info.capped_size, 4096);
    if (info.name == "odd") EXPECT_EQ(info.capped_size, 5120);  // rounded up to a multiple of 256
    if (info.name == "odd") EXPECT_EQ(info.capped_max, 0);
    if (info.name == "max") EXPECT_EQ(info.capped_max, 3);
    EXPECT_EQ(info.capped, info.name != "plain") << info.name;
  }
  EXPECT_EQ(engine_->CreateCollection("db", "small", Capped(4096)).code(), ErrorCode::kNamespaceExists);
}

TEST_P(CappedTest, TheOldestGoWhenEitherLimitIsPassed) {
  ASSERT_TRUE(engine_->CreateCollection("db", "bytes", Capped(4096)).ok());
  Collection bytes = engine_->collection("db", "bytes");
  ASSERT_TRUE(bytes.CreateIndex(J(R"({"p": 1})")).ok());
  // 1,000-byte documents: four fit in 4,096 bytes, a fifth pushes the oldest out.
  for (int64_t i = 1; i <= 4; ++i) ASSERT_TRUE(bytes.InsertOne(Sized(i, 1000)).ok());
  EXPECT_EQ(Ids(bytes), (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_TRUE(bytes.InsertOne(Sized(5, 1000)).ok());
  EXPECT_EQ(Ids(bytes), (std::vector<int64_t>{2, 3, 4, 5}));
  // A big one pushes out as many as it takes.
  ASSERT_TRUE(bytes.InsertOne(Sized(6, 3000)).ok());
  EXPECT_EQ(Ids(bytes), (std::vector<int64_t>{5, 6}));
  // One bigger than the whole collection stays alone: the one inserted never goes.
  ASSERT_TRUE(bytes.InsertOne(Sized(7, 5000)).ok());
  EXPECT_EQ(Ids(bytes), (std::vector<int64_t>{7}));
  auto valid = bytes.Validate();
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(valid->valid()) << (valid->errors.empty() ? "" : valid->errors[0]);
  auto stats = bytes.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->capped);
  EXPECT_EQ(stats->max_size, 4096);
  EXPECT_EQ(stats->count, 1);

  ASSERT_TRUE(engine_->CreateCollection("db", "docs", Capped(1 << 20, 3)).ok());
  Collection docs = engine_->collection("db", "docs");
  std::vector<Document> many;
  for (int64_t i = 10; i < 20; ++i) many.push_back(Sized(i, 100));
  auto inserted = docs.InsertMany(many);
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(inserted->inserted_count, 10u);
  EXPECT_EQ(Ids(docs), (std::vector<int64_t>{17, 18, 19}));
  FindOptions newest_first;
  newest_first.sort = J(R"({"$natural": -1})");
  EXPECT_EQ(Ids(docs, newest_first), (std::vector<int64_t>{19, 18, 17}));
}

TEST_P(CappedTest, UpdatesAndDeletesAreCountedAndTransactionsRefused) {
  ASSERT_TRUE(engine_->CreateCollection("db", "c", Capped(4096)).ok());
  Collection c = engine_->collection("db", "c");
  for (int64_t i = 1; i <= 3; ++i) ASSERT_TRUE(c.InsertOne(Sized(i, 1000)).ok());
  // Growing a document is allowed (MongoDB 5.3+); the next insert trims.
  ASSERT_EQ(c.UpdateOne(J(R"({"_id": 2})"), J("{\"$set\": {\"p\": \"" + std::string(1900, 'y') + "\"}}"))->modified_count, 1);
  ASSERT_TRUE(c.InsertOne(Sized(4, 500)).ok());
  EXPECT_EQ(Ids(c), (std::vector<int64_t>{2, 3, 4}));
  // A delete frees its bytes: the next insert removes nothing.
  ASSERT_EQ(c.DeleteOne(J(R"({"_id": 2})"))->deleted_count, 1);
  ASSERT_TRUE(c.InsertOne(Sized(5, 1500)).ok());
  EXPECT_EQ(Ids(c), (std::vector<int64_t>{3, 4, 5}));

  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  EXPECT_EQ(c.InsertOne(Sized(6, 100), in_txn).status().code(), ErrorCode::kOperationNotSupportedInTransaction);
  UpdateOptions update_in_txn;
  update_in_txn.write = in_txn;
  EXPECT_EQ(c.UpdateOne(J(R"({"_id": 3})"), J(R"({"$set": {"a": 1}})"), update_in_txn).status().code(),
            ErrorCode::kOperationNotSupportedInTransaction);
  EXPECT_EQ(c.UpdateMany(J(R"({"nothing": 1})"), J(R"({"$set": {"a": 1}})"), update_in_txn).status().code(),
            ErrorCode::kOperationNotSupportedInTransaction);
  EXPECT_EQ(c.DeleteMany(J(R"({})"), in_txn).status().code(), ErrorCode::kOperationNotSupportedInTransaction);
  // Reads in a transaction are fine.
  FindOptions read;
  read.read.transaction = txn->get();
  EXPECT_EQ(Ids(c, read), (std::vector<int64_t>{3, 4, 5}));
  (*txn)->Abort();
  EXPECT_TRUE(c.Validate()->valid());
}

TEST_P(CappedTest, ConcurrentInsertersKeepTheLimitExactly) {
  constexpr int64_t kMax = 50;
  ASSERT_TRUE(engine_->CreateCollection("db", "c", Capped(1 << 20, kMax)).ok());
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      Collection c = engine_->collection("db", "c");
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(c.InsertOne(Sized(t * 10000 + i, 64)).ok());
    });
  }
  for (auto& thread : threads) thread.join();
  Collection c = engine_->collection("db", "c");
  std::vector<int64_t> ids = Ids(c);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kMax));
  // What is left is the newest 50: each thread's last inserts, in its order.
  std::vector<int64_t> last(kThreads, -1);
  for (int64_t id : ids) {
    EXPECT_GT(id % 10000, last[id / 10000]);
    last[id / 10000] = id % 10000;
  }
  for (int t = 0; t < kThreads; ++t) {
    if (last[t] >= 0) EXPECT_EQ(last[t], kEach - 1) << "thread " << t << "'s newest insert is gone";
  }
  EXPECT_TRUE(c.Validate()->valid());
}

TEST_P(CappedTest, LimitsAndCountsSurviveARestart) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  ASSERT_TRUE(engine_->CreateCollection("db", "c", Capped(4096, 3)).ok());
  {
    Collection c = engine_->collection("db", "c");
    for (int64_t i = 1; i <= 3; ++i) ASSERT_TRUE(c.InsertOne(Sized(i, 100)).ok());
  }
  Reopen();
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(Sized(4, 100)).ok());
  EXPECT_EQ(Ids(c), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(c.Stats()->max, 3);
}

TEST_P(CappedTest, CloneAndConvertKeepTheNewestThatFit) {
  Collection plain = engine_->collection("db", "plain");
  ASSERT_TRUE(plain.CreateIndex(J(R"({"p": 1})")).ok());
  for (int64_t i : {5, 1, 4, 2, 3}) ASSERT_TRUE(plain.InsertOne(Sized(i, 1000)).ok());
  EXPECT_EQ(engine_->CloneCollectionAsCapped("db", "missing", "x", 4096).code(), ErrorCode::kNamespaceNotFound);
  EXPECT_EQ(engine_->CloneCollectionAsCapped("db", "plain", "plain", 4096).code(), ErrorCode::kNamespaceExists);
  ASSERT_TRUE(engine_->CloneCollectionAsCapped("db", "plain", "copy", 4096).ok());
  Collection copy = engine_->collection("db", "copy");
  EXPECT_EQ(Ids(copy), (std::vector<int64_t>{1, 4, 2, 3}));  // four of 1,000 bytes fit in 4,096
  EXPECT_EQ(copy.ListIndexes()->size(), 1u);                   // indexes are not copied
  ASSERT_TRUE(engine_->ConvertToCapped("db", "plain", 3000).ok());  // 4,096 once rounded
  Collection converted = engine_->collection("db", "plain");
  EXPECT_EQ(Ids(converted), (std::vector<int64_t>{1, 4, 2, 3}));
  EXPECT_TRUE(converted.Stats()->capped);
  EXPECT_EQ(converted.ListIndexes()->size(), 1u);  // the _id index only
  EXPECT_EQ(engine_->ConvertToCapped("db", "missing", 4096).code(), ErrorCode::kNamespaceNotFound);
}

INSTANTIATE_TEST_SUITE_P(Modes, CappedTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
