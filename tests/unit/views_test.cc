// Read-only views in the embedded engine: reads through a view equal the
// same aggregation written out over its collection (find, count, distinct,
// aggregate, $lookup from a view), views on views, every refusal of a
// collection-only operation with MongoDB's code, the definition checks
// (cycle, depth, stages), redefinition, drop, persistence across a restart,
// and readers of a view while writers change the collection and the view is
// redefined.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::IdsOf;
using testing::J;
using testing::Mode;

std::vector<int64_t> FindIds(Collection c, const Document& filter = Document(), FindOptions options = {}) {
  auto cursor = c.Find(filter, options);
  EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
  if (!cursor.ok()) return {};
  auto docs = cursor->ToVector();
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  return docs.ok() ? IdsOf(*docs) : std::vector<int64_t>{};
}

CollectionOptions View(const std::string& on, const std::vector<std::string>& stages) {
  CollectionOptions options;
  options.view_on = on;
  for (const std::string& s : stages) options.pipeline.push_back(J(s));
  return options;
}

class ViewsTest : public EngineTest {
 protected:
  void Fill() {
    Collection people = engine_->collection("db", "people");
    for (int i = 1; i <= 20; ++i) {
      ASSERT_TRUE(people.InsertOne(J("{\"_id\": " + std::to_string(i) + ", \"age\": " + std::to_string(i * 5) +
                                     ", \"group\": " + std::to_string(i % 3) + "}"))
                      .ok());
    }
    ASSERT_TRUE(engine_->CreateCollection("db", "older", View("people", {R"({"$match": {"age": {"$gte": 50}}})"}))
                    .ok());
  }
};

TEST_P(ViewsTest, ReadsEqualTheAggregationWrittenOut) {
  Fill();
  Collection view = engine_->collection("db", "older");
  Collection people = engine_->collection("db", "people");
  const std::vector<std::string> filters = {"{}", R"({"group": 1})", R"({"age": {"$lt": 70}})", R"({"nope": 1})"};
  for (const std::string& f : filters) {
    std::vector<Document> stages = {J(R"({"$match": {"age": {"$gte": 50}}})"), J("{\"$match\": " + f + "}"),
                                    J(R"({"$sort": {"age": -1}})")};
    auto by_hand = people.Aggregate(stages);
    ASSERT_TRUE(by_hand.ok());
    FindOptions sorted;
    sorted.sort = J(R"({"age": -1})");
    EXPECT_EQ(FindIds(view, J(f), sorted), IdsOf(*by_hand->ToVector())) << f;
    auto counted = view.CountDocuments(J(f));
    ASSERT_TRUE(counted.ok());
    EXPECT_EQ(*counted, static_cast<int64_t>(FindIds(view, J(f)).size())) << f;
  }
  EXPECT_EQ(*view.EstimatedDocumentCount(), 11);
  auto groups = view.Distinct("group", Document());
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->ToJson(), R"({ "values" : [ 0, 1, 2 ] })");
  FindOptions page;
  page.sort = J(R"({"_id": 1})");
  page.skip = 2;
  page.limit = 3;
  page.projection = J(R"({"age": 1})");
  auto docs = view.Find(Document(), page)->ToVector();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(IdsOf(*docs), (std::vector<int64_t>{12, 13, 14}));
  EXPECT_EQ((*docs)[0].ToJson(), R"({ "_id" : 12, "age" : 60 })");
  // $lookup from a view sees only what the view shows.
  ASSERT_TRUE(engine_->collection("db", "refs").InsertOne(J(R"({"_id": 1, "p": [2, 15]})")).ok());
  auto joined = engine_->collection("db", "refs")
                    .Aggregate({J(R"({"$lookup": {"from": "older", "localField": "p", "foreignField": "_id", "as": "j"}})"),
                                J(R"({"$project": {"n": {"$size": "$j"}}})")});
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ((*joined->ToVector())[0].ToJson(), R"({ "_id" : 1, "n" : 1 })");
}

TEST_P(ViewsTest, ViewsOnViewsAndTheirLimits) {
  Fill();
  ASSERT_TRUE(engine_->CreateCollection("db", "older_g1", View("older", {R"({"$match": {"group": 1}})"})).ok());
  EXPECT_EQ(FindIds(engine_->collection("db", "older_g1")), (std::vector<int64_t>{10, 13, 16, 19}));
  EXPECT_EQ(engine_->CreateCollection("db", "self", View("self", {})).code(), ErrorCode::kGraphContainsCycle);
  ASSERT_TRUE(engine_->CreateCollection("db", "a", View("b", {})).ok());
  EXPECT_EQ(engine_->CreateCollection("db", "b", View("a", {})).code(), ErrorCode::kGraphContainsCycle);
  EXPECT_EQ(engine_->ModifyView("db", "older", std::string("older_g1"), std::nullopt).code(),
            ErrorCode::kGraphContainsCycle);
  EXPECT_EQ(FindIds(engine_->collection("db", "older_g1")).size(), 4u);  // unchanged
  std::string below = "people";
  for (int i = 1; i <= 20; ++i) {
    const std::string name = "chain" + std::to_string(i);
    ASSERT_TRUE(engine_->CreateCollection("db", name, View(below, {})).ok()) << i;
    below = name;
  }
  EXPECT_EQ(engine_->CreateCollection("db", "chain21", View("chain20", {})).code(), ErrorCode::kViewDepthLimitExceeded);
  EXPECT_EQ(FindIds(engine_->collection("db", "chain19")).size(), 20u);
  EXPECT_EQ(engine_->collection("db", "chain20").Find(Document()).status().code(),
            ErrorCode::kViewDepthLimitExceeded);
  // Stages a view cannot hold; a pipeline that does not parse.
  EXPECT_EQ(engine_->CreateCollection("db", "w", View("people", {R"({"$out": "x"})"})).code(),
            ErrorCode::kOptionNotSupportedOnView);
  EXPECT_EQ(engine_->CreateCollection("db", "w", View("people", {R"({"$documents": []})"})).code(),
            ErrorCode::kInvalidNamespace);
  EXPECT_EQ(static_cast<int>(engine_->CreateCollection("db", "w", View("people", {R"({"$bogus": 1})"})).code()),
            40324);
  EXPECT_EQ(engine_->CreateCollection("db", "w", View("", {})).code(), ErrorCode::kBadValue);
  CollectionOptions pipeline_only;
  pipeline_only.pipeline.push_back(J(R"({"$match": {}})"));
  EXPECT_EQ(engine_->CreateCollection("db", "w", pipeline_only).code(), ErrorCode::kInvalidOptions);
}

TEST_P(ViewsTest, CollectionOnlyOperationsAreRefusedAndChangeNothing) {
  Fill();
  Collection view = engine_->collection("db", "older");
  const ErrorCode on_view = ErrorCode::kCommandNotSupportedOnView;
  EXPECT_EQ(view.InsertOne(J(R"({"_id": 100})")).status().code(), on_view);
  EXPECT_EQ(view.InsertMany({J(R"({"_id": 100})")}).status().code(), on_view);
  EXPECT_EQ(view.UpdateMany(Document(), J(R"({"$set": {"x": 1}})")).status().code(), on_view);
  UpdateOptions upsert;
  upsert.upsert = true;
  EXPECT_EQ(view.UpdateOne(J(R"({"_id": 500})"), J(R"({"$set": {"x": 1}})"), upsert).status().code(), on_view);
  EXPECT_EQ(view.DeleteMany(Document()).status().code(), on_view);
  EXPECT_EQ(view.FindOneAndDelete(Document()).status().code(), on_view);
  EXPECT_EQ(view.CreateIndex(J(R"({"age": 1})")).status().code(), on_view);
  EXPECT_EQ(view.ListIndexes().status().code(), on_view);
  EXPECT_EQ(view.Stats().status().code(), on_view);
  EXPECT_EQ(view.Validate().status().code(), on_view);
  EXPECT_EQ(engine_->CompactCollection("db", "older").status().code(), on_view);
  EXPECT_EQ(engine_->ConvertToCapped("db", "older", 4096).code(), on_view);
  EXPECT_EQ(engine_->RenameCollection("db", "older", "db", "elder", false).code(), on_view);
  EXPECT_EQ(engine_->RenameCollection("db", "people", "db", "older", true).code(), ErrorCode::kNamespaceExists);
  EXPECT_EQ(engine_->CreateCollection("db", "older").code(), ErrorCode::kNamespaceExists);
  FindOptions tailable;
  tailable.tailable = true;
  EXPECT_EQ(view.Find(Document(), tailable).status().code(), ErrorCode::kInvalidPipelineOperator);
  auto in = engine_->BeginTransaction();
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(engine_->CreateCollection("db", "tv", View("people", {}), in->get()).code(),
            ErrorCode::kOperationNotSupportedInTransaction);
  WriteOptions txn_write;
  txn_write.transaction = in->get();
  EXPECT_EQ(view.InsertOne(J(R"({"_id": 101})"), txn_write).status().code(), on_view);
  (*in)->Abort();
  EXPECT_EQ(*engine_->collection("db", "people").CountDocuments(Document()), 20);
  EXPECT_EQ(*view.CountDocuments(Document()), 11);
  int indexes_was = 0;
  ASSERT_TRUE(engine_->DropCollection("db", "older", &indexes_was).ok());
  EXPECT_EQ(indexes_was, -1);
  EXPECT_EQ(*engine_->collection("db", "people").CountDocuments(Document()), 20);
}

TEST_P(ViewsTest, DefinitionsSurviveARestartAndCanBeChanged) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Fill();
  ASSERT_TRUE(engine_->ModifyView("db", "older", std::nullopt,
                                  std::vector<Document>{J(R"({"$match": {"age": {"$gte": 90}}})")})
                  .ok());
  EXPECT_EQ(FindIds(engine_->collection("db", "older")), (std::vector<int64_t>{18, 19, 20}));
  EXPECT_EQ(engine_->ModifyView("db", "people", std::string("x"), std::nullopt).code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(engine_->ModifyView("db", "missing", std::string("x"), std::nullopt).code(), ErrorCode::kNamespaceNotFound);
  Reopen();
  EXPECT_EQ(FindIds(engine_->collection("db", "older")), (std::vector<int64_t>{18, 19, 20}));
  auto listed = engine_->ListCollections("db");
  ASSERT_EQ(listed.size(), 2u);
  const CollectionInfo& info = listed[0].name == "older" ? listed[0] : listed[1];
  EXPECT_TRUE(info.view);
  EXPECT_EQ(info.view_on, "people");
  ASSERT_EQ(info.pipeline.size(), 1u);
  EXPECT_EQ(info.pipeline[0].ToJson(), R"({ "$match" : { "age" : { "$gte" : 90 } } })");
}

TEST_P(ViewsTest, ReadersSeeOneDefinitionWhileWritersAndRedefinitionsRun) {
  Fill();
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, redefinitions{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(failures_mutex);
    failures.push_back(what);
  };
  std::thread writer([&] {
    // Changes the documents under the view without changing which match.
    Collection people = engine_->collection("db", "people");
    for (int i = 0; !stop; ++i) {
      auto updated = people.UpdateOne(J("{\"_id\": " + std::to_string(i % 20 + 1) + "}"), J(R"({"$inc": {"n": 1}})"));
      if (!updated.ok() || updated->matched_count != 1) fail("update");
    }
  });
  std::thread redefiner([&] {
    for (int i = 0; !stop; ++i) {
      const char* stage = i % 2 == 0 ? R"({"$match": {"age": {"$gte": 50}}})" : R"({"$match": {"age": {"$gte": 90}}})";
      if (!engine_->ModifyView("db", "older", std::nullopt, std::vector<Document>{J(stage)}).ok()) fail("collMod");
      ++redefinitions;
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      Collection view = engine_->collection("db", "older");
      while (!stop) {
        auto ids = view.Find(Document());
        if (!ids.ok()) {
          fail(ids.status().ToString());
          continue;
        }
        auto docs = ids->ToVector();
        // Either definition, never a mixture: 11 documents or 3.
        if (!docs.ok() || (docs->size() != 11 && docs->size() != 3)) fail("a read saw neither definition");
        ++reads;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((reads < 200 || redefinitions < 50) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  writer.join();
  redefiner.join();
  for (auto& t : readers) t.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_GE(reads.load(), 200);
  EXPECT_GE(redefinitions.load(), 50);
}

INSTANTIATE_TEST_SUITE_P(Modes, ViewsTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
