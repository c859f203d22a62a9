// Secondary indexes: specs and names, unique/sparse/partial/multikey
// maintenance through every kind of write, builds that fail cleanly, and
// persistence across reopening.
#include <gtest/gtest.h>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

class IndexTest : public EngineTest {
 protected:
  Collection c() { return engine_->collection("db", "c"); }
  std::vector<std::string> IndexNames() {
    std::vector<std::string> out;
    auto list = c().ListIndexes();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (!list.ok()) return out;
    for (const Document& spec : *list) {
      bson_iter_t name;
      if (spec.Find("name", &name)) out.push_back(bson_iter_utf8(&name, nullptr));
    }
    return out;
  }
  int64_t Count(const std::string& filter) {
    auto n = c().CountDocuments(J(filter));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
};

TEST_P(IndexTest, DefaultNamesSpecsAndListing) {
  auto name = c().CreateIndex(J(R"({"a": 1, "b.c": -1})"));
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(*name, "a_1_b.c_-1");
  auto list = c().ListIndexes();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].ToJson(), R"({ "v" : 2, "key" : { "_id" : 1 }, "name" : "_id_" })");
  EXPECT_EQ((*list)[1].ToJson(), R"({ "v" : 2, "key" : { "a" : 1, "b.c" : -1 }, "name" : "a_1_b.c_-1" })");
}

TEST_P(IndexTest, SameIndexTwiceIsANoOpConflictsAreErrors) {
  auto first = c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1"})")});
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created_collection_automatically);
  EXPECT_EQ(first->num_indexes_before, 1);
  EXPECT_EQ(first->num_indexes_after, 2);
  auto again = c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1"})")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->num_indexes_before, 2);
  EXPECT_EQ(again->num_indexes_after, 2);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "other"})")}).status().code(),
            ErrorCode::kIndexOptionsConflict);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"b": 1}, "name": "a_1"})")}).status().code(),
            ErrorCode::kIndexKeySpecsConflict);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1", "unique": true})")}).status().code(),
            ErrorCode::kIndexKeySpecsConflict);
}

TEST_P(IndexTest, BadSpecsFailWithMongoDbCodes) {
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 0}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": "hashed"}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 1}, "bogus": 1})")}).status().code(),
            ErrorCode::kInvalidIndexSpecificationOption);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 1, "b": 1}, "expireAfterSeconds": 5})")}).status().code(),
            ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"name": "x"})")}).status().code(), ErrorCode::kFailedToParse);
  EXPECT_EQ(IndexNames().size(), 0u) << "nothing was created (not even the collection)";
}

TEST_P(IndexTest, UniqueIndexRejectsDuplicatesOnEveryWritePath) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"email": 1})"), /*unique=*/true).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1, "email": "a@x"})")).ok());
  auto dup = c().InsertOne(J(R"({"_id": 2, "email": "a@x"})"));
  ASSERT_EQ(dup.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(dup.status().message(),
            R"(E11000 duplicate key error collection: db.c index: email_1 dup key: { email: "a@x" })");
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 2, "email": "b@x"})")).ok());
  // An update onto a taken value fails and changes nothing.
  auto moved = c().UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"email": "a@x"}})"));
  EXPECT_EQ(moved.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Count(R"({"email": "b@x"})"), 1);
  // Rewriting a document with its own value is fine.
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"email": "a@x", "n": 1}})")).ok());
  // Deleting (or changing) the owner frees the value.
  ASSERT_TRUE(c().DeleteOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"email": "a@x"}})")).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 3, "email": "b@x"})")).ok());
  // Replacement and upsert go through the same check.
  EXPECT_EQ(c().ReplaceOne(J(R"({"_id": 3})"), J(R"({"email": "a@x"})")).status().code(), ErrorCode::kDuplicateKey);
  UpdateOptions upsert;
  upsert.upsert = true;
  EXPECT_EQ(c().UpdateOne(J(R"({"_id": 9})"), J(R"({"$set": {"email": "b@x"}})"), upsert).status().code(),
            ErrorCode::kDuplicateKey);
  EXPECT_EQ(Count("{}"), 2);
}

TEST_P(IndexTest, MissingFieldsIndexAsNullUnlessSparse) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"u": 1})"), true).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1})")).ok());
  EXPECT_EQ(c().InsertOne(J(R"({"_id": 2})")).status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(c().InsertOne(J(R"({"_id": 2, "u": null})")).status().code(), ErrorCode::kDuplicateKey);

  Collection s = engine_->collection("db", "sparse");
  ASSERT_TRUE(s.CreateIndexes({J(R"({"key": {"u": 1}, "unique": true, "sparse": true})")}).ok());
  ASSERT_TRUE(s.InsertOne(J(R"({"_id": 1})")).ok());
  ASSERT_TRUE(s.InsertOne(J(R"({"_id": 2})")).ok());
  ASSERT_TRUE(s.InsertOne(J(R"({"_id": 3, "u": 1})")).ok());
  EXPECT_EQ(s.InsertOne(J(R"({"_id": 4, "u": 1})")).status().code(), ErrorCode::kDuplicateKey);
}

TEST_P(IndexTest, PartialUniqueIndexOnlyConstrainsMatchingDocuments) {
  ASSERT_TRUE(c().CreateIndexes({J(R"({"key": {"name": 1}, "unique": true,
                                       "partialFilterExpression": {"active": true}})")})
                  .ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1, "name": "x", "active": true})")).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 2, "name": "x", "active": false})")).ok());
  EXPECT_EQ(c().InsertOne(J(R"({"_id": 3, "name": "x", "active": true})")).status().code(), ErrorCode::kDuplicateKey);
  // Leaving the partial filter releases the value.
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"active": false}})")).ok());
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"active": true}})")).ok());
}

TEST_P(IndexTest, MultikeyUniqueAndParallelArrays) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"tags": 1})"), true).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1, "tags": ["a", "b", "a"]})")).ok()) << "repeats within a document are fine";
  EXPECT_EQ(c().InsertOne(J(R"({"_id": 2, "tags": ["c", "b"]})")).status().code(), ErrorCode::kDuplicateKey);
  ASSERT_TRUE(c().UpdateOne(J(R"({"_id": 1})"), J(R"({"$pull": {"tags": "b"}})")).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 2, "tags": ["c", "b"]})")).ok());

  Collection p = engine_->collection("db", "parallel");
  ASSERT_TRUE(p.CreateIndex(J(R"({"a": 1, "b": 1})")).ok());
  ASSERT_TRUE(p.InsertOne(J(R"({"a": [1, 2], "b": 1})")).ok());
  EXPECT_EQ(p.InsertOne(J(R"({"a": [1, 2], "b": [1, 2]})")).status().code(), ErrorCode::kCannotIndexParallelArrays);
}

TEST_P(IndexTest, BuildOverViolatingDataFailsAndLeavesNothing) {
  ASSERT_TRUE(c().InsertMany({J(R"({"_id": 1, "a": 1})"), J(R"({"_id": 2, "a": 2})"), J(R"({"_id": 3, "a": 1})")}).ok());
  auto built = c().CreateIndex(J(R"({"a": 1})"), true);
  ASSERT_EQ(built.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(built.status().message(), "E11000 duplicate key error collection: db.c index: a_1 dup key: { a: 1 }");
  EXPECT_EQ(IndexNames(), std::vector<std::string>{"_id_"});
  // With no index left behind, a duplicate insert still works...
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 4, "a": 2})")).ok());
  // ...and once the data is fixed the build succeeds and enforces.
  ASSERT_TRUE(c().DeleteMany(J(R"({"_id": {"$in": [3, 4]}})")).ok());
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})"), true).ok());
  EXPECT_EQ(c().InsertOne(J(R"({"_id": 5, "a": 2})")).status().code(), ErrorCode::kDuplicateKey);
}

TEST_P(IndexTest, DropIndexes) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})"), true).ok());
  ASSERT_TRUE(c().CreateIndex(J(R"({"b": 1})")).ok());
  EXPECT_EQ(c().DropIndex("_id_").code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(c().DropIndex("nope").code(), ErrorCode::kIndexNotFound);
  ASSERT_TRUE(c().DropIndex("a_1").ok());
  EXPECT_EQ(IndexNames(), (std::vector<std::string>{"_id_", "b_1"}));
  ASSERT_TRUE(c().InsertMany({J(R"({"a": 1})"), J(R"({"a": 1})")}).ok()) << "the unique constraint went with it";
  ASSERT_TRUE(c().DropIndex("*").ok());
  EXPECT_EQ(IndexNames(), std::vector<std::string>{"_id_"});
  EXPECT_EQ(engine_->collection("db", "none").DropIndex("a_1").code(), ErrorCode::kNamespaceNotFound);
}

TEST_P(IndexTest, IndexesSurviveReopenAndRename) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})"), true).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1, "a": 1})")).ok());
  if (GetParam() == Mode::kDisk) {
    Reopen();
    EXPECT_EQ(IndexNames(), (std::vector<std::string>{"_id_", "a_1"}));
    EXPECT_EQ(c().InsertOne(J(R"({"_id": 2, "a": 1})")).status().code(), ErrorCode::kDuplicateKey);
  }
  ASSERT_TRUE(engine_->RenameCollection("db", "c", "db", "d", false).ok());
  Collection d = engine_->collection("db", "d");
  EXPECT_EQ(d.InsertOne(J(R"({"_id": 2, "a": 1})")).status().code(), ErrorCode::kDuplicateKey);
  ASSERT_TRUE(engine_->DropCollection("db", "d").ok());
  ASSERT_TRUE(d.InsertOne(J(R"({"_id": 2, "a": 1})")).ok()) << "a dropped collection takes its indexes along";
}

TEST_P(IndexTest, TransactionWritingAcrossAnIndexBuildMustRetry) {
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 0, "a": 0})")).ok());
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 1, "a": 1})"), in_txn).ok());
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1})")).ok());
  Status commit = (*txn)->Commit();
  EXPECT_EQ(commit.code(), ErrorCode::kWriteConflict) << commit.ToString();
  EXPECT_EQ(Count("{}"), 1) << "the conflicting transaction wrote nothing";
}

INSTANTIATE_TEST_SUITE_P(Modes, IndexTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
