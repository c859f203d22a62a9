// Validation of BSON from outside: malformed bytes at any depth are refused
// with InvalidBSON, nesting beyond the limits with Overflow, without recursion.
#include <gtest/gtest.h>

#include <string>

#include "bson/validate.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;

std::string Int32(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

// A document around the element bytes: length prefix and the final 0.
std::string Doc(const std::string& elements) { return Int32(static_cast<int32_t>(elements.size() + 5)) + elements + '\0'; }

ErrorCode Check(const std::string& bytes, int depth = bson::kMaxCommandDepth) {
  return bson::ValidateBson(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), depth).code();
}

// {a: {a: {... {a: 1}}}} with `levels` documents in all, built in one pass:
// the innermost {a: 1} is 12 bytes and each level around it adds 8.
std::string Nested(int levels) {
  std::string out;
  out.reserve(static_cast<size_t>(levels) * 8 + 12);
  for (int i = 0; i < levels - 1; ++i) out += Int32(12 + 8 * (levels - 1 - i)) + std::string("\x03" "a\0", 3);
  out += Int32(12) + std::string("\x10" "a\0", 3) + Int32(1) + '\0';
  out += std::string(static_cast<size_t>(levels - 1), '\0');
  return out;
}

TEST(ValidateTest, WellFormedDocumentsPass) {
  for (const char* json : {R"({})", R"({"a": 1, "b": "x", "c": [1, [2, {"d": null}]], "e": {"$numberDecimal": "1.5"}})",
                           R"({"r": {"$regularExpression": {"pattern": "a.*", "options": "i"}}, "t": {"$timestamp": {"t": 1, "i": 2}}})",
                           R"({"b": {"$binary": {"base64": "AAEC", "subType": "00"}}, "o": {"$oid": "5f1d7f0e0000000000000000"}})",
                           R"({"min": {"$minKey": 1}, "max": {"$maxKey": 1}, "d": {"$date": 0}, "f": true, "g": false})"}) {
    Document d = J(json);
    EXPECT_EQ(Check(d.bytes()), ErrorCode::kOk) << json;
  }
}

TEST(ValidateTest, MalformedBytesAtAnyDepthAreInvalidBson) {
  const std::string int_a = std::string("\x10" "a\0", 3) + Int32(1);
  // An embedded document whose last byte is not 0.
  std::string bad_inner = Doc(int_a);
  bad_inner.back() = 1;
  EXPECT_EQ(Check(Doc(std::string("\x03" "x\0", 3) + bad_inner)), ErrorCode::kInvalidBSON);
  // Two levels down.
  EXPECT_EQ(Check(Doc(std::string("\x03" "y\0", 3) + Doc(std::string("\x04" "x\0", 3) + bad_inner))),
            ErrorCode::kInvalidBSON);
  // An embedded length past its parent's end.
  std::string long_inner = Doc(int_a);
  long_inner.replace(0, 4, Int32(200));
  EXPECT_EQ(Check(Doc(std::string("\x03" "x\0", 3) + long_inner)), ErrorCode::kInvalidBSON);
  // Strings: no NUL, zero length, negative length, length past the end.
  EXPECT_EQ(Check(Doc(std::string("\x02" "s\0", 3) + Int32(2) + "ab")), ErrorCode::kInvalidBSON);
  EXPECT_EQ(Check(Doc(std::string("\x02" "s\0", 3) + Int32(0))), ErrorCode::kInvalidBSON);
  EXPECT_EQ(Check(Doc(std::string("\x02" "s\0", 3) + Int32(-5) + std::string("a\0", 2))), ErrorCode::kInvalidBSON);
  EXPECT_EQ(Check(Doc(std::string("\x02" "s\0", 3) + Int32(100) + std::string("a\0", 2))), ErrorCode::kInvalidBSON);
  // A boolean that is not 0 or 1; an unknown type; bytes after the end.
  EXPECT_EQ(Check(Doc(std::string("\x08" "b\0\x02", 4))), ErrorCode::kInvalidBSON);
  EXPECT_EQ(Check(Doc(std::string("\x20" "u\0", 3))), ErrorCode::kInvalidBSON);
  std::string trailing = Doc(int_a);
  trailing.insert(trailing.size() - 1, std::string("\0", 1));
  trailing.replace(0, 4, Int32(static_cast<int32_t>(trailing.size())));
  EXPECT_EQ(Check(trailing), ErrorCode::kInvalidBSON);
  // A key that runs to the end; old binary with a wrong inner length.
  EXPECT_EQ(Check(Int32(8) + std::string("\x10" "abc", 4)), ErrorCode::kInvalidBSON);
  EXPECT_EQ(Check(Doc(std::string("\x05" "b\0", 3) + Int32(6) + '\x02' + Int32(7) + "xy")), ErrorCode::kInvalidBSON);
  // Code with scope whose scope does not fill it.
  std::string scope = Doc("");
  std::string cws = Int32(4 + 4 + 2 + static_cast<int32_t>(scope.size()) + 1) + Int32(2) + std::string("x\0", 2) + scope;
  EXPECT_EQ(Check(Doc(std::string("\x0F" "c\0", 3) + cws)), ErrorCode::kInvalidBSON);
}

TEST(ValidateTest, NestingIsBoundedWithoutRecursion) {
  EXPECT_EQ(Check(Nested(200)), ErrorCode::kOk);
  EXPECT_EQ(Check(Nested(201)), ErrorCode::kOverflow);
  EXPECT_EQ(Check(Nested(100000)), ErrorCode::kOverflow);  // would overflow a recursive validator's stack
  EXPECT_EQ(Check(Nested(100), bson::kMaxStorageDepth), ErrorCode::kOk);
  EXPECT_EQ(Check(Nested(101), bson::kMaxStorageDepth), ErrorCode::kOverflow);
  const std::string deep = Nested(37);
  EXPECT_EQ(bson::NestingDepth(reinterpret_cast<const uint8_t*>(deep.data()), deep.size()), 37);
  // Empty documents and arrays add no level, as in MongoDB.
  Document empties = J(R"({"a": {"b": {}}, "c": [[]]})");
  EXPECT_EQ(bson::NestingDepth(empties.data(), empties.size()), 2);
  // Document::FromBytes refuses what the validator refuses.
  std::string bad = Nested(3);
  bad[bad.size() - 2] = 7;
  EXPECT_EQ(Document::FromBytes(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()).status().code(),
            ErrorCode::kInvalidBSON);
}

TEST(ValidateTest, StoredDocumentsNestAtMostAHundredLevels) {
  auto engine = Engine::Open({.in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("db", "c");
  auto doc = [](int levels) {
    std::string bytes = Nested(levels);
    return *Document::FromBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  };
  EXPECT_TRUE(c.InsertOne(doc(100)).ok());
  auto too_deep = c.InsertOne(doc(101));
  EXPECT_EQ(too_deep.status().code(), ErrorCode::kOverflow);
  EXPECT_EQ(too_deep.status().message(), "cannot insert document because it exceeds 100 levels of nesting");
  EXPECT_EQ(*c.CountDocuments(Document()), 1);
  // An update that would make it 101 levels deep is refused; nothing changes.
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 2})")).ok());
  bson_t update = BSON_INITIALIZER, set;
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  std::string deep = Nested(100);
  bson_t value;
  ASSERT_TRUE(bson_init_static(&value, reinterpret_cast<const uint8_t*>(deep.data()), deep.size()));
  BSON_APPEND_DOCUMENT(&set, "x", &value);
  bson_append_document_end(&update, &set);
  auto updated = c.UpdateOne(J(R"({"_id": 2})"), *Document::FromBson(&update));
  bson_destroy(&update);
  EXPECT_EQ(updated.status().code(), ErrorCode::kOverflow);
  EXPECT_EQ(**c.FindOne(J(R"({"_id": 2})")), J(R"({"_id": 2})"));
}

}  // namespace
}  // namespace docket
