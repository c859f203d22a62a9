// The aggregation framework beyond the data-driven cases: memory budgets
// ($group, $facet and $sort spill and give the same answers; without disk
// use they fail with 292), $out's all-or-nothing replacement, variables
// from the command's `let`, collectionless pipelines, and cursors that outlive
// their first batch.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "test_util.h"

namespace docket {
namespace {

using testing::GetInt;
using testing::J;
using testing::Mode;

std::vector<Document> Pipeline(const std::string& json_array) {
  Document wrapper = J("{\"p\": " + json_array + "}");
  std::vector<Document> out;
  bson_iter_t it, stage;
  wrapper.Find("p", &it);
  bson_iter_recurse(&it, &stage);
  while (bson_iter_next(&stage)) {
    uint32_t len;
    const uint8_t* data;
    bson_iter_document(&stage, &len, &data);
    out.push_back(*Document::FromBytes(data, len));
  }
  return out;
}

std::vector<Document> RunAll(Collection& c, const std::string& pipeline, AggregateOptions options = {}) {
  auto cursor = c.Aggregate(Pipeline(pipeline), options);
  EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
  if (!cursor.ok()) return {};
  auto docs = cursor->ToVector();
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  return docs.ok() ? *docs : std::vector<Document>();
}

class AggregateTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { Open(16 << 10); }
  void Open(size_t budget) {
    engine_.reset();
    EngineOptions options;
    options.path = dir_.path();
    options.in_memory = GetParam() == Mode::kMemory;
    options.query_memory_limit_bytes = budget;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  // 4000 documents, 500 groups of 8, with values whose sums are known.
  void Load(Collection& c) {
    std::vector<Document> docs;
    for (int i = 0; i < 4000; ++i) {
      docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"g\": " + std::to_string(i % 500) + ", \"v\": " +
                       std::to_string(i) + ", \"pad\": \"" + std::string(30, 'p') + "\"}"));
    }
    ASSERT_TRUE(c.InsertMany(docs).ok());
  }
  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(AggregateTest, GroupPastTheBudgetSpillsAndMergesEveryGroup) {
  Collection c = engine_->collection("db", "c");
  Load(c);
  auto groups = RunAll(c, R"([{"$group": {"_id": "$g", "sum": {"$sum": "$v"}, "n": {"$sum": 1},
                             "first": {"$first": "$v"}, "last": {"$last": "$v"}, "all": {"$push": "$v"}}},
                           {"$sort": {"_id": 1}}])");
  ASSERT_EQ(groups.size(), 500u);
  for (int g = 0; g < 500; ++g) {
    const Document& d = groups[g];
    EXPECT_EQ(GetInt(d, "_id"), g);
    EXPECT_EQ(GetInt(d, "n"), 8);
    // v = g + 500k for k = 0..7
    EXPECT_EQ(GetInt(d, "sum"), 8 * g + 500 * 28) << d.ToJson();
    EXPECT_EQ(GetInt(d, "first"), g) << "partials must merge in input order";
    EXPECT_EQ(GetInt(d, "last"), g + 3500);
    bson_iter_t all, e;
    ASSERT_TRUE(d.Find("all", &all));
    bson_iter_recurse(&all, &e);
    int k = 0;
    while (bson_iter_next(&e)) EXPECT_EQ(bson_iter_as_int64(&e), g + 500 * k++);
    EXPECT_EQ(k, 8);
  }
}

TEST_P(AggregateTest, WithoutDiskUseTheBudgetIsAnError) {
  Collection c = engine_->collection("db", "c");
  Load(c);
  AggregateOptions no_disk;
  no_disk.allow_disk_use = false;
  for (const char* pipeline : {R"([{"$group": {"_id": "$_id", "n": {"$sum": 1}}}])",
                               R"([{"$sort": {"pad": 1, "v": -1}}])",
                               R"([{"$facet": {"all": [{"$match": {}}]}}])"}) {
    auto cursor = c.Aggregate(Pipeline(pipeline), no_disk);
    ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
    auto docs = cursor->ToVector();
    ASSERT_FALSE(docs.ok()) << pipeline;
    EXPECT_EQ(docs.status().code(), ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed) << pipeline;
  }
}

TEST_P(AggregateTest, SortAndFacetPastTheBudgetKeepEveryDocument) {
  Collection c = engine_->collection("db", "c");
  Load(c);
  auto sorted = RunAll(c, R"([{"$sort": {"g": -1, "v": 1}}, {"$project": {"v": 1}}])");
  ASSERT_EQ(sorted.size(), 4000u);
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    int64_t a = GetInt(sorted[i], "v");
    int64_t b = GetInt(sorted[i + 1], "v");
    int64_t ga = a % 500, gb = b % 500;
    ASSERT_TRUE(ga > gb || (ga == gb && a < b)) << i;
  }
  auto facets = RunAll(c, R"([{"$facet": {"n": [{"$count": "n"}], "top": [{"$sort": {"v": -1}}, {"$limit": 1}]}}])");
  ASSERT_EQ(facets.size(), 1u);
  EXPECT_NE(facets[0].ToJson().find("\"n\" : 4000"), std::string::npos) << facets[0].ToJson();
  EXPECT_NE(facets[0].ToJson().find("\"v\" : 3999"), std::string::npos);
}

TEST_P(AggregateTest, CursorBatchesOutliveTheCall) {
  Collection c = engine_->collection("db", "c");
  Load(c);
  AggregateOptions options;
  options.batch_size = 7;
  auto cursor = c.Aggregate(Pipeline(R"([{"$match": {"g": {"$lt": 10}}}, {"$project": {"g": 1}}])"), options);
  ASSERT_TRUE(cursor.ok());
  size_t total = 0, batches = 0;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    ASSERT_TRUE(batch.ok());
    EXPECT_LE(batch->size(), 7u);
    total += batch->size();
    ++batches;
  }
  EXPECT_EQ(total, 80u);
  EXPECT_GE(batches, 11u);
}

TEST_P(AggregateTest, OutReplacesTheTargetWithItsIndexesOrLeavesItAlone) {
  Collection c = engine_->collection("db", "c");
  Collection target = engine_->collection("db", "target");
  ASSERT_TRUE(c.InsertMany({J(R"({"_id": 1, "k": "a"})"), J(R"({"_id": 2, "k": "b"})")}).ok());
  ASSERT_TRUE(target.InsertMany({J(R"({"_id": 9, "k": "old"})")}).ok());
  ASSERT_TRUE(target.CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok());

  RunAll(c, R"([{"$out": "target"}])");
  auto docs = target.Find(Document())->ToVector();
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(GetInt((*docs)[0], "_id"), 1);
  auto indexes = target.ListIndexes();
  ASSERT_TRUE(indexes.ok());
  EXPECT_EQ(indexes->size(), 2u) << "the unique index on k came along";
  EXPECT_EQ(target.InsertOne(J(R"({"_id": 3, "k": "a"})")).status().code(), ErrorCode::kDuplicateKey);

  // A failing $out (the unique index refuses the second "z") changes nothing
  // and leaves no temporary collection.
  auto failing = c.Aggregate(Pipeline(R"([{"$project": {"k": "z"}}, {"$out": "target"}])"));
  ASSERT_TRUE(failing.ok());
  auto result = failing->ToVector();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(*target.CountDocuments(Document()), 2);
  for (const CollectionInfo& info : engine_->ListCollections("db")) {
    EXPECT_EQ(info.name.find("tmp.agg_out"), std::string::npos) << info.name;
  }
}

TEST_P(AggregateTest, LetVariablesAndCollectionlessPipelines) {
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertMany({J(R"({"_id": 1, "v": 5})"), J(R"({"_id": 2, "v": 50})")}).ok());
  AggregateOptions options;
  options.let = J(R"({"limit": {"$multiply": [2, 10]}, "label": "big"})");
  auto docs = RunAll(c, R"([{"$match": {"$expr": {"$gt": ["$v", "$$limit"]}}}, {"$project": {"l": "$$label"}}])", options);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].ToJson(), R"({ "_id" : 2, "l" : "big" })");

  auto cursor = engine_->Aggregate("db", Pipeline(R"([{"$documents": [{"x": 1}, {"x": 2}]}, {"$group": {"_id": null, "s": {"$sum": "$x"}}}])"));
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  auto summed = cursor->ToVector();
  ASSERT_TRUE(summed.ok());
  ASSERT_EQ(summed->size(), 1u);
  EXPECT_EQ(GetInt((*summed)[0], "s"), 3);
  EXPECT_EQ(engine_->Aggregate("db", Pipeline(R"([{"$match": {}}])")).status().code(), ErrorCode::kInvalidNamespace);
  EXPECT_EQ(c.Aggregate(Pipeline(R"([{"$match": {"$expr": "$$nope"}}])")).status().code(), static_cast<ErrorCode>(17276));
}

TEST_P(AggregateTest, LookupThroughAForeignIndexSeesEveryMatch) {
  Collection orders = engine_->collection("db", "orders");
  Collection items = engine_->collection("db", "items");
  std::vector<Document> o, it;
  for (int i = 0; i < 200; ++i) o.push_back(J("{\"_id\": " + std::to_string(i) + "}"));
  for (int i = 0; i < 1000; ++i) {
    it.push_back(J("{\"_id\": " + std::to_string(i) + ", \"order\": " + std::to_string(i % 200) + "}"));
  }
  ASSERT_TRUE(orders.InsertMany(o).ok());
  ASSERT_TRUE(items.InsertMany(it).ok());
  ASSERT_TRUE(items.CreateIndex(J(R"({"order": 1})")).ok());
  auto joined = RunAll(orders, R"([{"$lookup": {"from": "items", "localField": "_id", "foreignField": "order", "as": "items"}},
                                {"$project": {"n": {"$size": "$items"}}}])");
  ASSERT_EQ(joined.size(), 200u);
  for (const Document& d : joined) EXPECT_EQ(GetInt(d, "n"), 5) << d.ToJson();
}

INSTANTIATE_TEST_SUITE_P(Modes, AggregateTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
