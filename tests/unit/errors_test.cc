// Errors keep what they know: a Result read without checking throws the
// Status itself, and a DuplicateKey names its index's pattern and the values.
#include <gtest/gtest.h>

#include "test_util.h"

namespace docket {
namespace {

using testing::J;

Document Details(const Status& s) {
  auto doc = Document::FromBytes(reinterpret_cast<const uint8_t*>(s.details().data()), s.details().size());
  EXPECT_TRUE(doc.ok()) << "details are not a BSON document";
  return doc.ok() ? *doc : Document();
}

TEST(ErrorsTest, ReadingTheValueOfAnErrorThrowsTheStatus) {
  Result<int> r = Status(ErrorCode::kNamespaceNotFound, "no such thing");
  try {
    (void)*r;
    FAIL() << "no exception";
  } catch (const BadResultAccess& e) {
    EXPECT_EQ(e.status().code(), ErrorCode::kNamespaceNotFound);
    EXPECT_EQ(std::string(e.what()), "NamespaceNotFound (26): no such thing");
  }
  EXPECT_THROW((void)r.value(), BadResultAccess);
  Result<std::string> moved = Status(ErrorCode::kBadValue, "x");
  EXPECT_THROW((void)std::move(moved).value(), BadResultAccess);
  Result<int> fine = 3;
  EXPECT_EQ(*fine, 3);
}

// The README's first engine call, made where the directory cannot be created.
TEST(ErrorsTest, OpeningWhereNothingCanBeCreatedSaysWhy) {
  auto engine = Engine::Open({.path = "/proc/docket-cannot-be-here"});
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message(), "");
  EXPECT_THROW((void)(*engine)->collection("a", "b"), BadResultAccess);
}

TEST(ErrorsTest, DuplicateIdCarriesKeyPatternAndKeyValue) {
  auto engine = Engine::Open({.in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("db", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": "Prefix1"})")).ok());
  auto again = c.InsertOne(J(R"({"_id": "Prefix1", "x": 1})"));
  ASSERT_EQ(again.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Details(again.status()).ToJson(), J(R"({"keyPattern": {"_id": 1}, "keyValue": {"_id": "Prefix1"}})").ToJson());
}

TEST(ErrorsTest, DuplicateOnAUniqueIndexNamesItsFields) {
  auto engine = Engine::Open({.in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("db", "c");
  ASSERT_TRUE(c.CreateIndex(J(R"({"email": 1, "tenant.id": -1})"), /*unique=*/true).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "email": "a@x", "tenant": {"id": 7}})")).ok());
  const std::string expected = J(R"({"keyPattern": {"email": 1, "tenant.id": -1},
                                     "keyValue": {"email": "a@x", "tenant.id": 7}})").ToJson();
  auto insert = c.InsertOne(J(R"({"_id": 2, "email": "a@x", "tenant": {"id": 7}})"));
  ASSERT_EQ(insert.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Details(insert.status()).ToJson(), expected);
  // The same through an update and in InsertMany's per-document errors.
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 3, "email": "b@x", "tenant": {"id": 7}})")).ok());
  auto update = c.UpdateOne(J(R"({"_id": 3})"), J(R"({"$set": {"email": "a@x"}})"));
  ASSERT_EQ(update.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Details(update.status()).ToJson(), expected);
  auto many = c.InsertMany({J(R"({"_id": 4, "email": "a@x", "tenant": {"id": 7}})")});
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->write_errors.size(), 1u);
  EXPECT_EQ(Details(many->write_errors[0].status).ToJson(), expected);
  // A missing field is null in keyValue, as in the message.
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 5})")).ok());
  auto missing = c.InsertOne(J(R"({"_id": 6})"));
  ASSERT_EQ(missing.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Details(missing.status()).ToJson(),
            J(R"({"keyPattern": {"email": 1, "tenant.id": -1}, "keyValue": {"email": null, "tenant.id": null}})").ToJson());
}

}  // namespace
}  // namespace docket
