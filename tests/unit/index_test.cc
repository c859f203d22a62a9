// Secondary indexes: specs and names, unique/sparse/partial/multikey
// maintenance through every kind of write, builds that fail cleanly, and
// persistence across reopening.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <random>

#include "bson/builder.h"
#include "index/implication.h"
#include "query/sort.h"
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
  // The same name and key with other options is IndexOptionsConflict (85),
  // "An equivalent index already exists with the same name but different
  // options" (what applications changing a TTL meet), not 86.
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 1}, "name": "a_1", "unique": true})")}).status().code(),
            ErrorCode::kIndexOptionsConflict);
}

TEST_P(IndexTest, BadSpecsFailWithMongoDbCodes) {
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": 0}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  // geoHaystack indexes went in MongoDB 5.0 (2d and 2dsphere: geo_index_test.cc).
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": "geoHaystack"}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(c().CreateIndexes({J(R"({"key": {"a": "sideways"}})")}).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(static_cast<int>(c().CreateIndexes({J(R"({"key": {"a": "hashed", "b": "hashed"}})")}).status().code()),
            31303);
  EXPECT_EQ(static_cast<int>(c().CreateIndexes({J(R"({"key": {"a": "hashed"}, "unique": true})")}).status().code()),
            16764);
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

// A document a unique index refuses leaves nothing behind, even when it was
// one of a group insert's documents or a write inside a transaction (its
// record had already been written when the index said no).
TEST_P(IndexTest, RefusedDocumentsLeaveNoRecordInGroupsAndTransactions) {
  ASSERT_TRUE(c().CreateIndex(J(R"({"n": 1})"), /*unique=*/true).ok());
  ASSERT_TRUE(c().InsertMany({J(R"({"_id": 1, "n": 1})"), J(R"({"_id": 2, "n": 2})")}).ok());
  InsertManyOptions unordered;
  unordered.ordered = false;
  auto group = c().InsertMany({J(R"({"_id": 3, "n": 3})"), J(R"({"_id": 9, "n": 1})"), J(R"({"_id": 4, "n": 4})")}, unordered);
  ASSERT_TRUE(group.ok());
  ASSERT_EQ(group->write_errors.size(), 1u);
  EXPECT_EQ(group->write_errors[0].index, 1u);
  EXPECT_EQ(group->inserted_count, 2u);
  EXPECT_EQ(Count(R"({"_id": 9})"), 0) << "the refused document's record stayed";
  EXPECT_EQ(Count("{}"), 4);
  EXPECT_EQ(Count(R"({"n": 1})"), 1);

  Status s = engine_->WithTransaction([&](Transaction& txn) -> Status {
    WriteOptions in_txn;
    in_txn.transaction = &txn;
    EXPECT_EQ(c().InsertOne(J(R"({"_id": 10, "n": 2})"), in_txn).status().code(), ErrorCode::kDuplicateKey);
    UpdateOptions update;
    update.write.transaction = &txn;
    EXPECT_EQ(c().UpdateOne(J(R"({"_id": 3})"), J(R"({"$set": {"n": 4, "moved": true}})"), update).status().code(),
              ErrorCode::kDuplicateKey);
    return c().InsertOne(J(R"({"_id": 11, "n": 11})"), in_txn).status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(R"({"_id": 10})"), 0);
  EXPECT_EQ(Count(R"({"moved": true})"), 0);
  EXPECT_EQ(Count(R"({"_id": 11})"), 1);
  EXPECT_EQ(Count(R"({"n": 3})"), 1) << "the refused update must not have moved the index entry";
  EXPECT_EQ(Count("{}"), 5);
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

// The documents a find returns, as JSON, in the order returned; empty (and
// a test failure) when the find fails.
std::vector<std::string> JsonRows(Collection& c, const std::string& filter, const FindOptions& options = {}) {
  std::vector<std::string> out;
  auto found = c.Find(J(filter), options);
  EXPECT_TRUE(found.ok()) << filter << ": " << found.status().ToString();
  if (!found.ok()) return out;
  auto rows = found->ToVector();
  EXPECT_TRUE(rows.ok()) << filter << ": " << rows.status().ToString();
  if (!rows.ok()) return out;
  for (const Document& d : *rows) out.push_back(d.ToJson());
  return out;
}

// The winning plan's leaf stage and its index, from Collection::Explain.
std::string PlanOf(Collection& c, const std::string& filter, const std::string& sort = "{}",
                   int64_t* keys_examined = nullptr, int64_t* docs_examined = nullptr) {
  FindOptions options;
  options.sort = J(sort);
  auto explained = c.Explain(J(filter), options);
  EXPECT_TRUE(explained.ok()) << explained.status().ToString();
  if (!explained.ok()) return "";
  std::string json = explained->ToJson();
  auto find_int = [&](const char* name) -> int64_t {
    size_t at = json.find(std::string("\"") + name + "\" : ");
    return at == std::string::npos ? -1 : std::stoll(json.substr(at + std::string(name).size() + 5));
  };
  if (keys_examined) *keys_examined = find_int("totalKeysExamined");
  if (docs_examined) *docs_examined = find_int("totalDocsExamined");
  std::string out;
  for (const char* stage : {"SORT", "IDHACK", "COLLSCAN", "IXSCAN"}) {
    if (json.find(std::string("\"stage\" : \"") + stage + "\"") != std::string::npos) out += std::string(out.empty() ? "" : "+") + stage;
  }
  size_t name = json.find("\"indexName\" : \"");
  if (name != std::string::npos) out += " " + json.substr(name + 15, json.find('"', name + 15) - name - 15);
  return out;
}

TEST_P(IndexTest, PlannerUsesIndexesForEqualityRangesInAndSorts) {
  std::vector<Document> docs;
  for (int i = 0; i < 200; ++i) {
    docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"a\": " + std::to_string(i % 50) + ", \"b\": " +
                     std::to_string(i) + ", \"c\": \"x" + std::to_string(i % 7) + "\"}"));
  }
  ASSERT_TRUE(c().InsertMany(docs).ok());
  ASSERT_TRUE(c().CreateIndex(J(R"({"a": 1, "b": -1})")).ok());
  ASSERT_TRUE(c().CreateIndex(J(R"({"b": 1})")).ok());
  Collection coll = c();
  int64_t keys = 0, read = 0;
  EXPECT_EQ(PlanOf(coll, R"({"a": 7})", "{}", &keys, &read), "IXSCAN a_1_b_-1");
  EXPECT_EQ(keys, 4);
  EXPECT_EQ(read, 4);
  EXPECT_EQ(PlanOf(coll, R"({"a": {"$in": [1, 2, 3]}})", "{}", &keys), "IXSCAN a_1_b_-1");
  EXPECT_EQ(keys, 12);
  EXPECT_EQ(PlanOf(coll, R"({"b": {"$gte": 190}})", "{}", &keys), "IXSCAN b_1");
  EXPECT_EQ(keys, 10);
  EXPECT_EQ(PlanOf(coll, R"({"a": 7, "b": {"$lt": 100}})", "{}", &keys), "IXSCAN a_1_b_-1");
  EXPECT_EQ(keys, 2);
  // Both sides of a range bound the scan while no document has an array...
  EXPECT_EQ(PlanOf(coll, R"({"b": {"$gte": 100, "$lt": 110}})", "{}", &keys), "IXSCAN b_1");
  EXPECT_EQ(keys, 10);
  // The index gives the order: no SORT stage, in both directions.
  EXPECT_EQ(PlanOf(coll, R"({"b": {"$gt": 10}})", R"({"b": 1})"), "IXSCAN b_1");
  EXPECT_EQ(PlanOf(coll, "{}", R"({"b": -1})"), "IXSCAN b_1");
  EXPECT_EQ(PlanOf(coll, R"({"a": 3})", R"({"b": 1})"), "IXSCAN a_1_b_-1");
  EXPECT_EQ(PlanOf(coll, R"({"a": {"$in": [3, 4]}})", R"({"b": 1})"), "SORT+IXSCAN a_1_b_-1");
  EXPECT_EQ(PlanOf(coll, R"({"c": "x1"})", "{}", nullptr, &read), "COLLSCAN");
  EXPECT_EQ(read, 200);
  EXPECT_EQ(PlanOf(coll, R"({"_id": 5})"), "IDHACK");
  EXPECT_EQ(PlanOf(coll, R"({"$or": [{"a": 1}, {"a": 2}]})"), "COLLSCAN");
  // ...and only one side once one has (an array can match $gte and $lt
  // through different elements), and multikey sorts need the whole range.
  ASSERT_TRUE(coll.InsertOne(J(R"({"_id": 1000, "b": [99, 200]})")).ok());
  int64_t returned_keys = 0;
  EXPECT_EQ(PlanOf(coll, R"({"b": {"$gte": 100, "$lt": 110}})", "{}", &returned_keys), "IXSCAN b_1");
  EXPECT_GT(returned_keys, 10);
  auto straddling = coll.CountDocuments(J(R"({"b": {"$gte": 100, "$lt": 110}})"));
  ASSERT_TRUE(straddling.ok());
  EXPECT_EQ(*straddling, 11) << "[99, 200] matches: 200 >= 100 and 99 < 110";
  EXPECT_EQ(PlanOf(coll, R"({"b": {"$gt": 10}})", R"({"b": 1})"), "SORT+IXSCAN b_1");
  EXPECT_EQ(PlanOf(coll, "{}", R"({"b": 1})"), "IXSCAN b_1");
  ASSERT_TRUE(coll.DeleteOne(J(R"({"_id": 1000})")).ok());

  // Sorted reads through the index stream in order, with limit.
  FindOptions top;
  top.sort = J(R"({"b": -1})");
  top.limit = 3;
  auto found = coll.Find(J(R"({"b": {"$lt": 150}})"), top);
  ASSERT_TRUE(found.ok());
  auto rows = found->ToVector();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(testing::GetInt((*rows)[0], "b"), 149);
  EXPECT_EQ(testing::GetInt((*rows)[2], "b"), 147);
}

// Random documents and random filters: every query answers the same with
// indexes as without, whatever plan is chosen.
TEST_P(IndexTest, IndexedAndUnindexedAnswersAgree) {
  std::mt19937 rng(1234);
  auto value = [&](int kind) -> std::string {
    switch (kind % 8) {
      case 0: return std::to_string(static_cast<int>(rng() % 20) - 5);
      case 1: return std::to_string(static_cast<int>(rng() % 20) - 5) + ".5";
      case 2: return "\"s" + std::to_string(rng() % 6) + "\"";
      case 3: return "[" + std::to_string(rng() % 20) + ", " + std::to_string(rng() % 20) + "]";
      case 4: return "null";
      case 5: return "{\"$numberLong\": \"" + std::to_string(rng() % 20) + "\"}";
      case 6: return "[]";
      default: return "{\"x\": " + std::to_string(rng() % 3) + "}";
    }
  };
  Collection plain = engine_->collection("db", "plain");
  Collection indexed = engine_->collection("db", "indexed");
  ASSERT_TRUE(indexed.CreateIndex(J(R"({"a": 1})")).ok());
  ASSERT_TRUE(indexed.CreateIndex(J(R"({"b": -1, "a": 1})")).ok());
  ASSERT_TRUE(indexed.CreateIndex(J(R"({"a.x": -1})")).ok());
  ASSERT_TRUE(indexed.CreateIndex(J(R"({"b": 1})")).ok());  // b is never an array: not multikey
  for (int i = 0; i < 300; ++i) {
    std::string doc = "{\"_id\": " + std::to_string(i);
    if (rng() % 10) doc += ", \"a\": " + value(static_cast<int>(rng()));
    if (rng() % 10) doc += ", \"b\": " + value(static_cast<int>(rng() % 3));  // b is never an array
    doc += "}";
    ASSERT_TRUE(plain.InsertOne(J(doc)).ok());
    ASSERT_TRUE(indexed.InsertOne(J(doc)).ok()) << doc;
  }
  const char* ops[] = {"$gt", "$gte", "$lt", "$lte", "$eq"};
  for (int q = 0; q < 1000; ++q) {
    std::string field = (rng() % 3 == 0) ? "b" : (rng() % 5 == 0 ? "a.x" : "a");
    std::string filter;
    switch (rng() % 5) {
      case 4:
        filter = "{\"" + field + "\": {\"" + std::string(ops[rng() % 2]) + "\": " + value(static_cast<int>(rng() % 3)) +
                 ", \"" + std::string(ops[2 + rng() % 2]) + "\": " + value(static_cast<int>(rng() % 3)) + "}}";
        break;
      case 0: filter = "{\"" + field + "\": " + value(static_cast<int>(rng() % 3)) + "}"; break;
      case 1: filter = "{\"" + field + "\": {\"" + ops[rng() % 5] + "\": " + value(static_cast<int>(rng() % 3)) + "}}"; break;
      case 2: filter = "{\"" + field + "\": {\"$in\": [" + value(0) + ", " + value(2) + ", " + value(1) + "]}}"; break;
      default:
        filter = "{\"b\": " + value(0) + ", \"a\": {\"" + std::string(ops[rng() % 4]) + "\": " + value(0) + "}}";
    }
    const char* sorts[] = {"{}", R"({"a": 1})", R"({"b": -1, "a": 1})", R"({"b": 1})", R"({"b": -1})", R"({"a.x": 1})"};
    std::string sort = sorts[rng() % 6];
    FindOptions options;
    options.sort = J(sort);
    auto a = plain.Find(J(filter), options);
    auto b = indexed.Find(J(filter), options);
    ASSERT_TRUE(a.ok() && b.ok()) << filter;
    auto ra = a->ToVector();
    auto rb = b->ToVector();
    ASSERT_TRUE(ra.ok() && rb.ok());
    std::vector<std::string> ja, jb;
    for (const Document& d : *ra) ja.push_back(d.ToJson());
    for (const Document& d : *rb) jb.push_back(d.ToJson());
    // Ties may come in any order: compare as sets, and check the order.
    auto spec = query::SortSpec::Compile(J(sort));
    ASSERT_TRUE(spec.ok());
    for (size_t i = 1; i < rb->size(); ++i) {
      ASSERT_LE(spec->Compare(spec->Extract((*rb)[i - 1]), spec->Extract((*rb)[i])), 0)
          << "out of order: filter " << filter << " sort " << sort << " plan " << PlanOf(indexed, filter, sort);
    }
    std::sort(ja.begin(), ja.end());
    std::sort(jb.begin(), jb.end());
    ASSERT_EQ(ja, jb) << "filter " << filter << " sort " << sort << " plan " << PlanOf(indexed, filter, sort);
  }
}

// Both collections answer the find alike: the same documents, in the same
// order when a sort is given (in any order otherwise).
void ExpectSameAnswers(Collection& reference, Collection& indexed, const std::string& filter, const std::string& sort) {
  FindOptions options;
  options.sort = J(sort);
  std::vector<std::string> expected = JsonRows(reference, filter, options);
  std::vector<std::string> got = JsonRows(indexed, filter, options);
  if (sort == "{}") {
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
  }
  EXPECT_EQ(got, expected) << filter << " sort " << sort << " plan " << PlanOf(indexed, filter, sort);
}

// A find, and the plan expected for it on the indexed collection.
struct PlannedQuery {
  const char* filter;
  const char* sort;
  const char* plan;
};

// Both collections get the same documents; then every query must answer as
// on the reference and be planned as expected on the indexed collection.
void ExpectPlansAndSameAnswers(Collection& reference, Collection& indexed, const std::vector<std::string>& docs,
                               const std::vector<PlannedQuery>& queries) {
  for (const std::string& doc : docs) {
    ASSERT_TRUE(reference.InsertOne(J(doc)).ok()) << doc;
    ASSERT_TRUE(indexed.InsertOne(J(doc)).ok()) << doc;
  }
  for (const PlannedQuery& q : queries) {
    ExpectSameAnswers(reference, indexed, q.filter, q.sort);
    EXPECT_EQ(PlanOf(indexed, q.filter, q.sort), q.plan) << q.filter << " sort " << q.sort;
  }
}

// A unique index fixed on every field is read by point lookups (no range
// seeks): the answers, orders and counts must be those of a collection scan,
// for single and compound keys, $in in both sort directions, numbers of
// different types, multikey entries and a transaction's own writes.
TEST_P(IndexTest, UniqueIndexPointLookupsAnswerAsScansDo) {
  Collection plain = engine_->collection("db", "plain");
  Collection unique = engine_->collection("db", "unique");
  ASSERT_TRUE(unique.CreateIndex(J(R"({"u": 1})"), /*unique=*/true).ok());
  ASSERT_TRUE(unique.CreateIndex(J(R"({"p": 1, "q": -1})"), /*unique=*/true).ok());
  std::vector<std::string> docs;
  for (int i = 0; i < 60; ++i) {
    std::string u;
    switch (i % 5) {
      case 0: u = std::to_string(i); break;
      case 1: u = std::to_string(i) + ".5"; break;
      case 2: u = "{\"$numberLong\": \"" + std::to_string(i) + "\"}"; break;
      case 3: u = "\"s" + std::to_string(i) + "\""; break;
      default: u = "[" + std::to_string(1000 + i) + ", " + std::to_string(2000 + i) + "]";  // multikey
    }
    docs.push_back("{\"_id\": " + std::to_string(i) + ", \"u\": " + u + ", \"p\": " + std::to_string(i % 6) +
                   ", \"q\": " + std::to_string(i / 6) + "}");
  }
  for (const std::string& doc : docs) {
    ASSERT_TRUE(plain.InsertOne(J(doc)).ok());
    ASSERT_TRUE(unique.InsertOne(J(doc)).ok()) << doc;
  }
  struct Query {
    const char* filter;
    const char* sort;
  };
  const Query queries[] = {
      {R"({"u": 10})", "{}"},
      {R"({"u": 10.0})", "{}"},                      // 10 stored as an int32: equal numbers are one key
      {R"({"u": {"$numberDecimal": "12"}})", "{}"},  // stored as an int64
      {R"({"u": 11.5})", "{}"},
      {R"({"u": "s13"})", "{}"},
      {R"({"u": 1004})", "{}"},                      // an element of [1004, 2004]
      {R"({"u": 99})", "{}"},                        // absent
      {R"({"u": {"$in": [10, 1004, 2004, "s13", 99, 11.5]}})", "{}"},  // 1004 and 2004: one document, once
      {R"({"u": {"$in": [10, 20, 30, 40]}})", R"({"u": 1})"},
      {R"({"u": {"$in": [10, 20, 30, 40]}})", R"({"u": -1})"},
      {R"({"u": {"$eq": 20}, "q": {"$gt": 2}})", "{}"},  // the rest of the filter still applies
      {R"({"p": 3, "q": 4})", "{}"},
      {R"({"p": {"$in": [1, 2]}, "q": {"$in": [0, 5, 9]}})", R"({"p": 1, "q": -1})"},
      {R"({"p": {"$in": [1, 2]}, "q": {"$in": [0, 5, 9]}})", R"({"p": -1, "q": 1})"},
  };
  for (const Query& q : queries) ExpectSameAnswers(plain, unique, q.filter, q.sort);
  // One key examined per entry found, and the sort comes from the index.
  int64_t keys = 0, read = 0;
  EXPECT_EQ(PlanOf(unique, R"({"u": 10})", "{}", &keys, &read), "IXSCAN u_1");
  EXPECT_EQ(keys, 1);
  EXPECT_EQ(read, 1);
  EXPECT_EQ(PlanOf(unique, R"({"u": {"$in": [10, 20, 99, 1004, 2004]}})", "{}", &keys, &read), "IXSCAN u_1");
  EXPECT_EQ(keys, 4);
  EXPECT_EQ(read, 3);
  EXPECT_EQ(PlanOf(unique, R"({"p": {"$in": [1, 2]}, "q": {"$in": [0, 5]}})", R"({"p": -1, "q": 1})", &keys),
            "IXSCAN p_1_q_-1");
  EXPECT_EQ(keys, 4);  // (1, 0), (1, 5), (2, 0), (2, 5): _id 1, 31, 2, 32
  // A transaction's lookups see its own writes and not others' later ones.
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  ASSERT_TRUE(unique.InsertOne(J(R"({"_id": 100, "u": 500, "p": 100, "q": 0})"), in_txn).ok());
  ASSERT_TRUE(unique.InsertOne(J(R"({"_id": 101, "u": 501, "p": 101, "q": 0})")).ok());
  FindOptions txn_find;
  txn_find.read.transaction = txn->get();
  EXPECT_EQ(JsonRows(unique, R"({"u": {"$in": [500, 501]}})", txn_find),
            std::vector<std::string>{J(R"({"_id": 100, "u": 500, "p": 100, "q": 0})").ToJson()});
  EXPECT_EQ(Count(R"({"u": 500})"), 0) << "not committed yet";
  ASSERT_TRUE((*txn)->Commit().ok());
  auto both = unique.CountDocuments(J(R"({"u": {"$in": [500, 501]}})"));
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, 2);
}

// A sparse index answers filters that bound one of its fields (no match can
// lack them all) and never a sort alone (that would drop the documents it
// leaves out): every answer is a collection scan's.
TEST_P(IndexTest, SparseIndexesAnswerBoundedFiltersOnly) {
  Collection plain = engine_->collection("db", "plain");
  Collection sparse = engine_->collection("db", "sparse");
  auto created = sparse.CreateIndexes({J(R"({"key": {"email": 1}, "unique": true, "sparse": true, "name": "email"})"),
                                       J(R"({"key": {"a": 1, "b": -1}, "sparse": true, "name": "ab"})")});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::vector<std::string> docs;
  for (int i = 0; i < 40; ++i) {
    std::string doc = "{\"_id\": " + std::to_string(i);
    if (i == 1) doc += ", \"email\": null";  // present, so indexed (once: the index is unique)
    else if (i % 3 != 0) doc += ", \"email\": \"u" + std::to_string(i) + "@x\"";  // a third have none
    if (i % 5 != 0) doc += ", \"a\": " + std::to_string(i % 4);
    if (i % 2 == 0) doc += ", \"b\": " + std::to_string(i % 7);
    if (i % 10 == 3) doc += ", \"b\": [1, 2]";
    docs.push_back(doc + "}");
  }
  ExpectPlansAndSameAnswers(plain, sparse, docs, {
      {R"({"email": "u2@x"})", "{}", "IXSCAN email"},
      {R"({"email": {"$in": ["u2@x", "u4@x", "u6@x"]}})", R"({"email": -1})", "IXSCAN email"},
      {R"({"email": {"$gte": "u3"}})", "{}", "IXSCAN email"},
      {R"({"a": 2})", R"({"b": -1})", "IXSCAN ab"},
      {R"({"a": {"$gt": 0}})", "{}", "IXSCAN ab"},
      {R"({"a": 1, "b": {"$lt": 5}})", "{}", "IXSCAN ab"},
      // Nothing bounds a field: the sparse indexes would miss documents.
      {"{}", R"({"email": 1})", "SORT+COLLSCAN"},
      {"{}", R"({"a": 1, "b": -1})", "SORT+COLLSCAN"},
      {R"({"email": null})", "{}", "COLLSCAN"},
      {R"({"email": {"$exists": false}})", "{}", "COLLSCAN"},
      {R"({"email": {"$gt": {"$minKey": 1}}})", "{}", "COLLSCAN"},  // MinKey and MaxKey span every type
      {R"({"a": {"$lt": {"$maxKey": 1}}})", "{}", "COLLSCAN"},
      {R"({"b": 3})", "{}", "COLLSCAN"},  // b alone is not a prefix of ab
  });
}

// Whether the winning plan's FETCH matches documents against the filter
// (absent when the index bounds are exact, as in MongoDB's explain).
bool FetchFilters(Collection& c, const std::string& filter) {
  auto explained = c.Explain(J(filter), FindOptions());
  EXPECT_TRUE(explained.ok()) << explained.status().ToString();
  return explained.ok() && explained->ToJson().find(R"("stage" : "FETCH", "filter")") != std::string::npos;
}

// A plan whose bounds are exact (the filter only fixes indexed fields to
// values whose keys are equal exactly when the values are) returns its
// documents without matching them again; any other filter is still matched.
// Every answer is a collection scan's, over mixed types that encode alike or
// nearly alike, nested fields, prefixes of strings and a multikey index.
TEST_P(IndexTest, ExactBoundsSkipOnlyTheMatchTheyMakeRedundant) {
  Collection plain = engine_->collection("db", "plain");
  Collection indexed = engine_->collection("db", "indexed");
  auto created = indexed.CreateIndexes({J(R"({"key": {"v": 1}, "name": "v"})"),
                                        J(R"({"key": {"u": 1}, "unique": true, "name": "u"})"),
                                        J(R"({"key": {"p": 1, "q": -1}, "name": "pq"})"),
                                        J(R"({"key": {"n.b": 1}, "name": "nb"})"),
                                        J(R"({"key": {"x.0": 1}, "name": "x0"})"),
                                        J(R"({"key": {"m": 1}, "name": "m"})")});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const char* values[] = {"5", "5.0", R"({"$numberLong": "5"})", R"({"$numberDecimal": "5"})", "5.5", "\"5\"",
                          "\"ab\"", "\"abc\"", "\"ab\\u0000c\"", "true", "false", "null",
                          R"({"$date": "2024-01-02T03:04:05Z"})", R"({"$oid": "65a1b2c3d4e5f60718293a4b"})",
                          R"({"$numberDouble": "NaN"})", R"({"a": 5})", "6"};
  std::vector<std::string> docs;
  int id = 0;
  for (const char* v : values) {
    for (int k = 0; k < 3; ++k, ++id) {
      std::string doc = "{\"_id\": " + std::to_string(id) + ", \"v\": " + v + ", \"u\": " + std::to_string(id) +
                        ", \"p\": " + std::to_string(id % 3) + ", \"q\": " + std::to_string(id % 4) +
                        ", \"n\": {\"b\": " + v + "}, \"x\": {\"0\": " + std::to_string(id % 2) + "}" +
                        ", \"w\": " + std::to_string(k) + ", \"m\": " + std::to_string(id % 5) + "}";
      if (k == 2) doc.replace(doc.find("\"v\": "), 5, "\"vv\": ");  // some documents lack v
      docs.push_back(doc);
    }
  }
  for (const std::string& doc : docs) {
    ASSERT_TRUE(plain.InsertOne(J(doc)).ok()) << doc;
    ASSERT_TRUE(indexed.InsertOne(J(doc)).ok()) << doc;
  }
  struct Query {
    const char* filter;
    bool exact;
  };
  const Query queries[] = {
      {R"({"v": 5})", true},  // 5, 5.0, NumberLong(5) and decimal 5 are one key
      {R"({"v": {"$eq": "ab"}})", true},  // not "abc", not "ab\0c"
      {R"({"v": {"$in": [5, "ab", true, 6]}})", true},
      {R"({"v": {"$in": [5.5, {"$date": "2024-01-02T03:04:05Z"}, {"$oid": "65a1b2c3d4e5f60718293a4b"}]}})", true},
      {R"({"v": 5, "$comment": "why"})", true},
      {R"({"u": {"$in": [1, 4, 7, 400]}})", true},
      {R"({"p": 1, "q": 2})", true},
      {R"({"p": {"$in": [0, 2]}})", true},
      {R"({"n.b": "abc"})", true},
      // Anything else in the filter is still matched.
      {R"({"v": 5, "w": 1})", false},
      {R"({"v": {"$in": [5, 6], "$nin": [6]}})", false},
      {R"({"v": {"$eq": 5, "$ne": 5}})", false},
      {R"({"v": {"$in": [5, {"$numberDecimal": "5.5"}]}})", false},
      {R"({"v": {"$in": [6, {"a": 5}]}})", false},
      {R"({"$and": [{"v": 5}, {"w": 0}]})", false},
      {R"({"v": 5, "$or": [{"w": 0}, {"w": 2}]})", false},
      {R"({"p": 1, "q": {"$gt": 1}})", false},
      {R"({"v": {"$gt": 5}})", false},
      {R"({"v": {"$numberDecimal": "5"}})", false},
      {R"({"v": {"$numberDouble": "NaN"}})", false},
      {R"({"v": {"a": 5}})", false},
      {R"({"x.0": 1})", false},  // a numeric path component could also reach an array's element
  };
  for (const Query& q : queries) {
    ExpectSameAnswers(plain, indexed, q.filter, "{}");
    ExpectSameAnswers(plain, indexed, q.filter, R"({"w": -1, "_id": 1})");  // through the sorter
    EXPECT_NE(PlanOf(indexed, q.filter).find("IXSCAN"), std::string::npos) << q.filter;
    EXPECT_EQ(FetchFilters(indexed, q.filter), !q.exact) << q.filter;
    // An aggregation's leading $match is planned the same way; stages that
    // only count their inputs get them from index entries alone.
    auto aggregated = [&](Collection& c, const std::vector<const char*>& rest) {
      std::vector<Document> pipeline = {J(std::string(R"({"$match": )") + q.filter + "}")};
      for (const char* stage : rest) pipeline.push_back(J(stage));
      std::vector<std::string> out;
      auto cursor = c.Aggregate(pipeline);
      EXPECT_TRUE(cursor.ok()) << q.filter;
      if (!cursor.ok()) return out;
      auto rows = cursor->ToVector();
      EXPECT_TRUE(rows.ok()) << q.filter;
      if (rows.ok()) {
        for (const Document& d : *rows) out.push_back(d.ToJson());
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    const std::vector<std::vector<const char*>> pipelines = {
        {R"({"$sort": {"_id": 1}})"},
        {R"({"$count": "n"})"},
        {R"({"$group": {"_id": null, "n": {"$sum": 1}}})"},
        {R"({"$skip": 1})", R"({"$limit": 3})", R"({"$group": {"_id": 1, "n": {"$sum": 1}, "c": {"$count": {}}}})"},
        {R"({"$limit": 2})", R"({"$count": "n"})"},
        {R"({"$limit": 100})"},  // the documents themselves
        {R"({"$group": {"_id": null, "s": {"$sum": "$u"}}})"},
        {R"({"$group": {"_id": "$p", "n": {"$sum": 1}}})"},
        {R"({"$project": {"_id": 0, "w": 1}})", R"({"$group": {"_id": "$w", "n": {"$sum": 1}}})"},
    };
    for (const auto& rest : pipelines) {
      EXPECT_EQ(aggregated(indexed, rest), aggregated(plain, rest)) << q.filter << " then " << rest[0];
    }
    auto plain_count = plain.CountDocuments(J(q.filter));
    auto indexed_count = indexed.CountDocuments(J(q.filter));
    ASSERT_TRUE(plain_count.ok() && indexed_count.ok()) << q.filter;
    EXPECT_EQ(*indexed_count, *plain_count) << q.filter;
  }
  EXPECT_FALSE(FetchFilters(indexed, R"({"m": 3})"));
  // Counts of exact plans (read from index entries alone) see a
  // transaction's own writes inside it only; skip and limit apply.
  auto count = [](Collection& c, const char* filter, const CountOptions& options = {}) {
    auto n = c.CountDocuments(J(filter), options);
    EXPECT_TRUE(n.ok()) << filter << ": " << n.status().ToString();
    return n.ok() ? *n : -1;
  };
  const int64_t sixes = count(plain, R"({"v": 6})");
  ASSERT_GT(sixes, 0);
  {
    auto txn = engine_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    WriteOptions in_txn;
    in_txn.transaction = txn->get();
    ASSERT_TRUE(indexed.InsertOne(J(R"({"_id": 999, "v": 6, "u": 999})"), in_txn).ok());
    CountOptions txn_count;
    txn_count.read.transaction = txn->get();
    EXPECT_EQ(count(indexed, R"({"v": 6})", txn_count), sixes + 1);
    EXPECT_EQ(count(indexed, R"({"u": 999})", txn_count), 1);
    EXPECT_EQ(count(indexed, R"({"v": 6})"), sixes) << "not committed";
    EXPECT_EQ(count(indexed, R"({"u": 999})"), 0) << "not committed";
    (*txn)->Abort();
  }
  CountOptions paged;
  paged.skip = 1;
  paged.limit = -1;
  EXPECT_EQ(count(indexed, R"({"v": {"$in": [5, 6]}})", paged), count(plain, R"({"v": {"$in": [5, 6]}})", paged));
  paged.skip = 1000;
  paged.limit = 0;
  EXPECT_EQ(count(indexed, R"({"v": 5})", paged), 0);
  paged.skip = -1;
  EXPECT_FALSE(indexed.CountDocuments(J(R"({"v": 5})"), paged).ok());
  EXPECT_FALSE(indexed.CountDocuments(J(R"({"v": {"$in": 5}})")).ok()) << "a bad filter fails as a find's";
  // A transaction's own write makes m multikey: from then on m's bounds are
  // not exact, inside the transaction as outside.
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  const char* array_doc = R"({"_id": 1000, "m": [3, 4], "w": 9})";
  ASSERT_TRUE(indexed.InsertOne(J(array_doc), in_txn).ok());
  ASSERT_TRUE(plain.InsertOne(J(array_doc), in_txn).ok());
  FindOptions txn_find;
  txn_find.read.transaction = txn->get();
  EXPECT_EQ(JsonRows(indexed, R"({"m": 4, "w": 9})", txn_find), std::vector<std::string>{J(array_doc).ToJson()});
  EXPECT_TRUE(FetchFilters(indexed, R"({"m": 3})"));
  ASSERT_TRUE((*txn)->Commit().ok());
  ExpectSameAnswers(plain, indexed, R"({"m": {"$in": [3, 4]}})", "{}");
}

// The implication a partial index needs, case by case: {filter, partial
// expression, whether the filter implies it}.
TEST(FilterImpliesTest, ProvesOnlyWhatEveryMatchSatisfies) {
  struct Case {
    const char* filter;
    const char* partial;
    bool implies;
  };
  const Case cases[] = {
      {R"({"a": 5})", R"({"a": 5})", true},
      {R"({"a": 5.0})", R"({"a": {"$eq": 5}})", true},  // numbers compare across types
      {R"({"a": 6})", R"({"a": 5})", false},
      {R"({"a": 5, "b": 1})", R"({"a": 5})", true},
      {R"({"a": 5})", R"({"a": 5, "b": 1})", false},
      {R"({"$and": [{"b": 1}, {"a": {"$gt": 20}}]})", R"({"$and": [{"a": {"$gt": 10}}, {"b": 1}]})", true},
      {R"({"a": {"$gt": 10}})", R"({"a": {"$gt": 10}})", true},
      {R"({"a": {"$gte": 10}})", R"({"a": {"$gt": 10}})", false},
      {R"({"a": {"$gte": 11}})", R"({"a": {"$gt": 10}})", true},
      {R"({"a": {"$gt": 10}})", R"({"a": {"$gte": 10}})", true},
      {R"({"a": 10})", R"({"a": {"$gte": 10}})", true},
      {R"({"a": 10})", R"({"a": {"$gt": 10}})", false},
      {R"({"a": {"$lt": 3}})", R"({"a": {"$lte": 3}})", true},
      {R"({"a": {"$lte": 3}})", R"({"a": {"$lt": 3}})", false},
      {R"({"a": {"$gt": 15, "$lt": 20}})", R"({"a": {"$gt": 10, "$lt": 30}})", true},
      {R"({"a": {"$gt": 15}})", R"({"a": {"$gt": 10, "$lt": 30}})", false},
      {R"({"a": {"$gt": "m"}})", R"({"a": {"$gt": 10}})", false},  // another type bracket
      {R"({"a": {"$gte": {"$numberDouble": "NaN"}}})", R"({"a": {"$gte": 1}})", false},
      {R"({"a": {"$gt": 5}})", R"({"a": {"$gte": {"$numberDouble": "NaN"}}})", false},
      {R"({"a": "x"})", R"({"a": {"$exists": true}})", true},
      {R"({"a": {"$lt": 0}})", R"({"a": {"$exists": true}})", true},
      {R"({"a": {"$type": "string"}})", R"({"a": {"$exists": true}})", true},
      {R"({"a": {"$exists": 1}})", R"({"a": {"$exists": true}})", true},
      {R"({"a": null})", R"({"a": {"$exists": true}})", false},  // null matches a missing field
      {R"({"a": {"$gt": {"$minKey": 1}}})", R"({"a": {"$exists": true}})", false},
      {R"({"a": {"$exists": false}})", R"({"a": {"$exists": false}})", true},
      {R"({"a": 1})", R"({"a": {"$exists": false}})", false},
      {R"({"a": {"$type": "int"}})", R"({"a": {"$type": "int"}})", true},
      {R"({"a": 1})", R"({"a": {"$type": "int"}})", false},
      {R"({"a": null})", R"({"a": null})", true},
      {R"({"a": [1, 2]})", R"({"a": [1, 2]})", true},
      {R"({"a": [1, 2]})", R"({"a": {"$gte": 1}})", false},
      {R"({"a.b": 1})", R"({"a": {"b": 1}})", false},  // other paths are not compared
      {R"({"$or": [{"a": 1}, {"a": 2}]})", R"({"a": {"$gte": 1}})", false},
      {R"({"a": 1})", R"({"$or": [{"a": 1}, {"b": 1}]})", false},
      {R"({"a": 1})", R"({"a": {"$in": [1, 2]}})", false},
      {R"({"a": 1})", "{}", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(index::FilterImplies(J(c.filter), J(c.partial)), c.implies) << c.filter << " => " << c.partial;
  }
}

// A partial index answers filters that imply its expression, with a
// collection scan's answers, and is left alone otherwise.
TEST_P(IndexTest, PartialIndexesAnswerFiltersThatImplyTheirExpression) {
  Collection plain = engine_->collection("db", "plain");
  Collection partial = engine_->collection("db", "partial");
  auto created = partial.CreateIndexes(
      {J(R"({"key": {"email": 1}, "unique": true, "name": "email", "partialFilterExpression": {"email": {"$exists": true}}})"),
       J(R"({"key": {"score": 1}, "name": "score", "partialFilterExpression": {"score": {"$gt": 10}}})"),
       J(R"({"key": {"status": 1, "at": -1}, "name": "status_at", "partialFilterExpression": {"status": "active"}})")});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::vector<std::string> docs;
  for (int i = 0; i < 60; ++i) {
    std::string doc = "{\"_id\": " + std::to_string(i) + ", \"at\": " + std::to_string(i);
    if (i == 1) doc += ", \"email\": null";  // exists, so indexed (once: the index is unique)
    else if (i % 3 != 0) doc += ", \"email\": \"u" + std::to_string(i) + "@x\"";
    if (i % 10 == 7) doc += ", \"score\": [5, " + std::to_string(i) + "]";
    else if (i % 10 == 9) doc += ", \"score\": \"high\"";
    else doc += ", \"score\": " + std::to_string(i % 25);
    if (i % 4 == 0) doc += ", \"status\": \"active\"";
    else if (i % 4 == 1) doc += ", \"status\": \"closed\"";
    docs.push_back(doc + "}");
  }
  ExpectPlansAndSameAnswers(plain, partial, docs, {
      {R"({"email": "u2@x"})", "{}", "IXSCAN email"},
      {R"({"email": {"$gte": "u3"}})", "{}", "IXSCAN email"},
      {R"({"email": {"$exists": true}})", R"({"email": 1})", "IXSCAN email"},
      {R"({"email": null})", "{}", "COLLSCAN"},
      {"{}", R"({"email": 1})", "SORT+COLLSCAN"},
      {R"({"score": {"$gt": 15}})", "{}", "IXSCAN score"},
      {R"({"score": {"$gte": 11}})", R"({"score": -1})", "SORT+IXSCAN score"},  // multikey: no sort from a range
      {R"({"score": {"$gt": 10}})", "{}", "IXSCAN score"},
      {R"({"score": 12})", "{}", "IXSCAN score"},
      {R"({"score": {"$gt": 15, "$lt": 20}})", "{}", "IXSCAN score"},
      {R"({"score": {"$gte": 10}})", "{}", "COLLSCAN"},
      {R"({"score": {"$gt": 5}})", "{}", "COLLSCAN"},
      {R"({"score": {"$lt": 20}})", "{}", "COLLSCAN"},
      {R"({"score": {"$gt": "a"}})", "{}", "COLLSCAN"},
      {R"({"status": "active", "at": {"$gt": 30}})", "{}", "IXSCAN status_at"},
      {R"({"status": "active"})", R"({"at": -1})", "IXSCAN status_at"},
      {R"({"$and": [{"at": 8}, {"status": "active"}]})", "{}", "IXSCAN status_at"},
      {R"({"status": "closed"})", "{}", "COLLSCAN"},
      {R"({"$or": [{"status": "active"}, {"status": "x"}]})", "{}", "COLLSCAN"},
  });
}

Document WithDate(int id, int64_t millis_ago) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  bson::Builder b;
  BSON_APPEND_INT32(b.get(), "_id", id);
  BSON_APPEND_DATE_TIME(b.get(), "at", now - millis_ago);
  return b.Finish();
}

TEST_P(IndexTest, TtlPassDeletesExpiredDatesOnly) {
  ASSERT_TRUE(c().CreateIndexes({J(R"({"key": {"at": 1}, "expireAfterSeconds": 60})")}).ok());
  ASSERT_TRUE(c().InsertOne(WithDate(1, 120'000)).ok());  // expired
  ASSERT_TRUE(c().InsertOne(WithDate(2, 0)).ok());        // fresh
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 3, "at": "yesterday"})")).ok());  // not a date: kept
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 4})")).ok());
  ASSERT_TRUE(c().InsertOne(J(R"({"_id": 5, "at": [{"$date": "2001-01-01T00:00:00Z"}, {"$date": "2999-01-01T00:00:00Z"}]})")).ok());
  auto deleted = engine_->DeleteExpired();
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 2) << "the old date, and the array whose earliest date is old";
  EXPECT_EQ(Count(R"({"_id": {"$in": [2, 3, 4]}})"), 3);
  EXPECT_EQ(Count("{}"), 3);
}

// The background monitor removes expired documents while writers keep
// inserting fresh ones; nothing fresh is lost.
TEST(TtlMonitorTest, RemovesExpiredDocumentsWhileWritersRun) {
  auto opened = Engine::Open({.path = "", .in_memory = true, .ttl_monitor_seconds = 1});
  ASSERT_TRUE(opened.ok());
  Engine& engine = **opened;
  Collection sessions = engine.collection("db", "sessions");
  ASSERT_TRUE(sessions.CreateIndexes({J(R"({"key": {"at": 1}, "expireAfterSeconds": 30})")}).ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sessions.InsertOne(WithDate(i, 3'600'000)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> fresh{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        if (sessions.InsertOne(WithDate(1000 + t * 100000 + i, 0)).ok()) fresh++;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  int64_t expired_left = -1;
  for (int attempt = 0; attempt < 100 && expired_left != 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    expired_left = *sessions.CountDocuments(J(R"({"_id": {"$lt": 100}})"));
  }
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_EQ(expired_left, 0) << "the monitor did not run within 10 seconds";
  EXPECT_EQ(*sessions.CountDocuments(Document()), fresh.load());
}

INSTANTIATE_TEST_SUITE_P(Modes, IndexTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
