// Document validation in the embedded engine: $jsonSchema keywords one by
// one (accepted and refused values), validators of query operators, the
// levels and actions, bypass, errInfo, persistence across a restart, and
// concurrent writers while collMod changes the level: no invalid document is
// ever stored.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

class ValidationTest : public EngineTest {
 protected:
  // Creates db.<name> with `validator` and returns whether each document
  // of `docs` was accepted.
  std::vector<bool> Accepted(const std::string& name, const std::string& validator, const std::vector<std::string>& docs) {
    CollectionOptions options;
    options.validator = J(validator);
    Status created = engine_->CreateCollection("db", name, options);
    EXPECT_TRUE(created.ok()) << created.ToString();
    std::vector<bool> out;
    Collection c = engine_->collection("db", name);
    for (const std::string& d : docs) {
      auto r = c.InsertOne(J(d));
      if (!r.ok()) EXPECT_EQ(r.status().code(), ErrorCode::kDocumentValidationFailure) << r.status().ToString();
      out.push_back(r.ok());
    }
    return out;
  }
};

TEST_P(ValidationTest, JsonSchemaKeywords) {
  using V = std::vector<bool>;
  EXPECT_EQ(Accepted("t1", R"({"$jsonSchema": {"properties": {"a": {"bsonType": "number"}}}})",
                     {R"({"a": 1})", R"({"a": 1.5})", R"({"a": {"$numberLong": "2"}})", R"({"a": "1"})", "{}"}),
            (V{true, true, true, false, true}));
  EXPECT_EQ(Accepted("t2", R"({"$jsonSchema": {"properties": {"a": {"type": ["string", "null"]}}}})",
                     {R"({"a": "x"})", R"({"a": null})", R"({"a": 1})", R"({"a": []})"}),
            (V{true, true, false, false}));
  EXPECT_EQ(Accepted("t3", R"({"$jsonSchema": {"properties": {"a": {"minimum": 1, "exclusiveMaximum": true, "maximum": 3}}}})",
                     {R"({"a": 1})", R"({"a": 2.99})", R"({"a": 3})", R"({"a": 0})", R"({"a": "not a number"})"}),
            (V{true, true, false, false, true}));
  EXPECT_EQ(Accepted("t4", R"({"$jsonSchema": {"properties": {"s": {"minLength": 2, "maxLength": 3, "pattern": "^a"}}}})",
                     {R"({"s": "ab"})", R"({"s": "aéé"})", R"({"s": "a"})", R"({"s": "abcd"})", R"({"s": "ba"})"}),
            (V{true, true, false, false, false}));
  EXPECT_EQ(Accepted("t5", R"({"$jsonSchema": {"properties": {"l": {"items": [{"bsonType": "int"}], "additionalItems": false}}}})",
                     {R"({"l": [1]})", R"({"l": []})", R"({"l": [1, 2]})", R"({"l": ["x"]})"}),
            (V{true, true, false, false}));
  EXPECT_EQ(Accepted("t6", R"({"$jsonSchema": {"properties": {"l": {"minItems": 1, "uniqueItems": true}}}})",
                     {R"({"l": [1, 2]})", R"({"l": []})", R"({"l": [1, 1.0]})", R"({"l": [{"a": 1}, {"a": 2}]})"}),
            (V{true, false, false, true}));
  EXPECT_EQ(Accepted("t7", R"({"$jsonSchema": {"minProperties": 2, "maxProperties": 3, "patternProperties": {"^n": {"bsonType": "int"}}}})",
                     {R"({"_id": 1, "n1": 2})", R"({"_id": 2})", R"({"_id": 3, "n1": "x"})", R"({"_id": 4, "a": 1, "b": 2, "c": 3})"}),
            (V{true, false, false, false}));
  EXPECT_EQ(Accepted("t8", R"({"$jsonSchema": {"dependencies": {"card": ["billing"]}, "enum": [{"_id": 1}, {"_id": 2, "card": 1, "billing": 1}]}})",
                     {R"({"_id": 1})", R"({"_id": 2, "card": 1, "billing": 1})", R"({"_id": 3})"}),
            (V{true, true, false}));
  EXPECT_EQ(Accepted("t9", R"({"$jsonSchema": {"oneOf": [{"required": ["a"]}, {"required": ["b"]}], "not": {"required": ["c"]}}})",
                     {R"({"a": 1})", R"({"b": 1})", R"({"a": 1, "b": 1})", R"({})", R"({"a": 1, "c": 1})"}),
            (V{true, true, false, false, false}));
  EXPECT_EQ(Accepted("t10", R"({"$jsonSchema": {"properties": {"m": {"multipleOf": 0.5}, "o": {"properties": {"x": {"bsonType": "bool"}}}}}})",
                     {R"({"m": 1.5, "o": {"x": true}})", R"({"m": 1.2})", R"({"o": {"x": 1}})", R"({"o": 5})"}),
            (V{true, false, false, true}));
}

TEST_P(ValidationTest, DefinitionErrors) {
  auto code = [&](const std::string& validator) {
    CollectionOptions options;
    options.validator = J(validator);
    return engine_->CreateCollection("db", "bad", options).code();
  };
  EXPECT_EQ(code(R"({"$jsonSchema": {"bsonType": "nope"}})"), ErrorCode::kBadValue);
  EXPECT_EQ(code(R"({"$jsonSchema": {"type": "integer"}})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(code(R"({"$jsonSchema": {"$ref": "#/x"}})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(code(R"({"$jsonSchema": {"required": ["a", "a"]}})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(code(R"({"$jsonSchema": {"exclusiveMinimum": true}})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(code(R"({"$jsonSchema": {"minLength": -1}})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(code(R"({"$jsonSchema": {"items": 5}})"), ErrorCode::kTypeMismatch);
  EXPECT_EQ(code(R"({"$jsonSchema": {"properties": {"a": {"pattern": "("}}}})"), ErrorCode::kInvalidRegex);
  EXPECT_EQ(code(R"({"$where": "1"})"), ErrorCode::kQueryFeatureNotAllowed);
  CollectionOptions level;
  level.validation_level = "sometimes";
  EXPECT_EQ(engine_->CreateCollection("db", "bad", level).code(), ErrorCode::kBadValue);
  EXPECT_TRUE(engine_->ListCollections("db").empty());
}

TEST_P(ValidationTest, LevelsActionsBypassAndRestart) {
  if (GetParam() == Mode::kMemory) GTEST_SKIP() << "an in-memory database does not survive reopening";
  Collection c = engine_->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "q": -1})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2, "q": 1})")).ok());
  ASSERT_TRUE(engine_->SetValidation("db", "c", J(R"({"q": {"$gte": 0}})"), std::string("moderate"), std::nullopt).ok());
  EXPECT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"n": 1}})")).ok());  // already invalid: not checked
  auto refused = c.UpdateOne(J(R"({"_id": 2})"), J(R"({"$set": {"q": -5}})"));
  ASSERT_EQ(refused.status().code(), ErrorCode::kDocumentValidationFailure);
  EXPECT_EQ(Document::FromTrustedBytes(refused.status().details()).ToJson(),
            R"({ "errInfo" : { "failingDocumentId" : 2, "details" : { "operatorName" : "$gte", "specifiedAs" : { "q" : { "$gte" : 0 } }, "reason" : "comparison failed", "consideredValue" : -5 } } })");
  WriteOptions bypass;
  bypass.bypass_document_validation = true;
  EXPECT_TRUE(c.InsertOne(J(R"({"_id": 3, "q": -3})"), bypass).ok());
  std::vector<std::string> warnings;
  engine_->SetLogSink([&](const LogEvent& e) {
    EXPECT_EQ(e.severity, 'W');
    EXPECT_EQ(e.id, 20294);
    warnings.push_back(e.message);
  });
  ASSERT_TRUE(engine_->SetValidation("db", "c", std::nullopt, std::string("strict"), std::string("warn")).ok());
  EXPECT_TRUE(c.InsertOne(J(R"({"_id": 4, "q": -4})")).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("failingDocumentId"), std::string::npos);
  ASSERT_TRUE(engine_->SetValidation("db", "c", std::nullopt, std::nullopt, std::string("error")).ok());
  Reopen();
  Collection again = engine_->collection("db", "c");
  EXPECT_EQ(again.InsertOne(J(R"({"_id": 5, "q": -1})")).status().code(), ErrorCode::kDocumentValidationFailure);
  auto listed = engine_->ListCollections("db");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].validated);
  EXPECT_EQ(listed[0].validator.ToJson(), R"({ "q" : { "$gte" : 0 } })");
  EXPECT_EQ(listed[0].validation_level, "strict");
  EXPECT_EQ(listed[0].validation_action, "error");
}

// An unordered insert reports an invalid document at its own index and
// inserts the others, as a duplicate key; an ordered one stops there.
TEST_P(ValidationTest, InvalidDocumentIsOneWriteErrorOfAnUnorderedInsert) {
  CollectionOptions options;
  options.validator = J(R"({"q": {"$gte": 0}})");
  ASSERT_TRUE(engine_->CreateCollection("db", "c", options).ok());
  Collection c = engine_->collection("db", "c");
  std::vector<Document> docs = {J(R"({"_id": 1, "q": 1})"), J(R"({"_id": 2, "q": -1})"), J(R"({"_id": 3, "q": 3})")};
  InsertManyOptions unordered;
  unordered.ordered = false;
  auto r = c.InsertMany(docs, unordered);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inserted_count, 2u);
  ASSERT_EQ(r->write_errors.size(), 1u);
  EXPECT_EQ(r->write_errors[0].index, 1u);
  EXPECT_EQ(r->write_errors[0].status.code(), ErrorCode::kDocumentValidationFailure);
  EXPECT_EQ(c.CountDocuments(J("{}")).value(), 2);
  std::vector<Document> more = {J(R"({"_id": 4, "q": 1})"), J(R"({"_id": 5, "q": -1})"), J(R"({"_id": 6, "q": 3})")};
  auto ordered = c.InsertMany(more);
  ASSERT_TRUE(ordered.ok());
  EXPECT_EQ(ordered->inserted_count, 1u);
  ASSERT_EQ(ordered->write_errors.size(), 1u);
  EXPECT_EQ(ordered->write_errors[0].index, 1u);
  EXPECT_EQ(c.CountDocuments(J("{}")).value(), 3);
}

TEST_P(ValidationTest, NoInvalidDocumentIsStoredWhileRulesChange) {
  CollectionOptions options;
  options.validator = J(R"({"q": {"$gte": 0}})");
  ASSERT_TRUE(engine_->CreateCollection("db", "c", options).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0}, accepted{0}, changes{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      Collection c = engine_->collection("db", "c");
      for (int i = 0; !stop; ++i) {
        const int id = t * 1000000 + i;
        const int q = i % 2 == 0 ? 1 : -1;
        auto r = c.InsertOne(J("{\"_id\": " + std::to_string(id) + ", \"q\": " + std::to_string(q) + "}"));
        (r.ok() ? accepted : refused)++;
        // An update that would make a valid document invalid.
        if (r.ok()) (void)c.UpdateOne(J("{\"_id\": " + std::to_string(id) + "}"), J(R"({"$set": {"q": -7}})"));
      }
    });
  }
  std::thread mod([&] {
    for (int i = 0; !stop; ++i) {
      if (!engine_->SetValidation("db", "c", std::nullopt, std::string(i % 2 ? "strict" : "moderate"), std::nullopt).ok()) break;
      ++changes;
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((accepted < 300 || refused < 300 || changes < 100) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& w : writers) w.join();
  mod.join();
  EXPECT_GE(accepted.load(), 300);
  EXPECT_GE(refused.load(), 300);
  EXPECT_GE(changes.load(), 100);
  // Strict or moderate, a valid document never became invalid.
  EXPECT_EQ(*engine_->collection("db", "c").CountDocuments(J(R"({"q": {"$lt": 0}})")), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, ValidationTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
