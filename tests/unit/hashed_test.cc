// MongoDB's hash of BSON values (bson/hash_value.h), against values mongod
// itself gives: its own startup self-check ({check: 42} -> -944302157085130861)
// and the manual's convertShardKeyToHashed example; and the properties the
// hashed index relies on (numbers equal as values hash alike).
#include <gtest/gtest.h>

#include "bson/hash_value.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;

int64_t HashOf(const char* json) {
  Document d = J(json);
  bson_iter_t it;
  EXPECT_TRUE(d.Find("v", &it));
  return bson::HashValue(it);
}

// Test vectors of mongod's own hasher tests (src/mongo/db/hasher_test.cpp).
TEST(HashedTest, AgreesWithMongod) {
  EXPECT_EQ(HashOf(R"({"v": 42})"), -944302157085130861LL);
  EXPECT_EQ(HashOf(R"({"v": 42.123})"), -944302157085130861LL);
  EXPECT_EQ(HashOf(R"({"v": 0})"), 4854801880128277513LL);
  EXPECT_EQ(HashOf(R"({"v": {"$numberDouble": "NaN"}})"), 4854801880128277513LL);
  EXPECT_EQ(HashOf(R"({"v": 1})"), 5902408780260971510LL);
  EXPECT_EQ(HashOf(R"({"v": -1.789})"), 1140205862565771219LL);
  EXPECT_EQ(HashOf(R"({"v": -2147483648})"), 6165898260261354870LL);
  EXPECT_EQ(HashOf(R"({"v": 2147483647})"), 1143184177162245883LL);
  EXPECT_EQ(HashOf(R"({"v": 1.7976931348623157e308})"), 921523596458303250LL);
  EXPECT_EQ(HashOf(R"({"v": {"$numberLong": "9223372036854775807"}})"), 921523596458303250LL);
  EXPECT_EQ(HashOf(R"({"v": -1.7976931348623157e308})"), 4532067210535695462LL);
  EXPECT_EQ(HashOf(R"({"v": {"$minKey": 1}})"), 7961148599568647290LL);
  EXPECT_EQ(HashOf(R"({"v": {"$maxKey": 1}})"), 5504842513779440750LL);
  EXPECT_EQ(HashOf(R"({"v": {"$undefined": true}})"), 40158834000849533LL);
  EXPECT_EQ(HashOf(R"({"v": "abc"})"), 8478485326885698097LL);
  EXPECT_EQ(HashOf(R"({"v": {"$symbol": "abc"}})"), 8478485326885698097LL);
  EXPECT_EQ(HashOf(R"({"v": ""})"), 2049396243249673340LL);
  EXPECT_EQ(HashOf(R"({"v": {"a": "abc", "b": {"$numberLong": "123"}}})"), 4771603801758380216LL);
  EXPECT_EQ(HashOf(R"({"v": {}})"), 7980500913326740417LL);
  EXPECT_EQ(HashOf(R"({"v": ["bar", "baz", "qux"]})"), -2938911267422831539LL);
  EXPECT_EQ(HashOf(R"({"v": []})"), 8849948234993459283LL);
  EXPECT_EQ(HashOf(R"({"v": {"$binary": {"base64": "AAECAwQG", "subType": "00"}}})"), 7252465090394235301LL);
  EXPECT_EQ(HashOf(R"({"v": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}}})"),
            6084661258071355978LL);
  EXPECT_EQ(HashOf(R"({"v": {"$oid": "010203040506070809101112"}})"), -5588663249627035708LL);
  EXPECT_EQ(HashOf(R"({"v": {"$oid": "000000000000000000000000"}})"), -4293118519463489418LL);
  EXPECT_EQ(HashOf(R"({"v": true})"), 6405873908747105701LL);
  EXPECT_EQ(HashOf(R"({"v": false})"), 6289544573401934092LL);
  EXPECT_EQ(HashOf(R"({"v": {"$date": {"$numberLong": "6153737367135073092"}}})"), 4476222765095560467LL);
  EXPECT_EQ(HashOf(R"({"v": {"$date": {"$numberLong": "0"}}})"), -1178696894582842035LL);
  EXPECT_EQ(HashOf(R"({"v": {"$regularExpression": {"pattern": "mongodb", "options": ""}}})"), -7275792090268217043LL);
  EXPECT_EQ(HashOf(R"({"v": {"$regularExpression": {"pattern": ".*", "options": "i"}}})"), 7095855029187981886LL);
  EXPECT_EQ(HashOf(R"({"v": {"$code": "func f() { return 1; }"}})"), 6861638109178014270LL);
  EXPECT_EQ(HashOf(R"({"v": {"$code": "func f() { return 1; }", "$scope": {"c": true}}})"), 501342939894575968LL);
}

TEST(HashedTest, NumbersHashAsTheirInt64) {
  EXPECT_EQ(HashOf(R"({"v": 42})"), HashOf(R"({"v": {"$numberLong": "42"}})"));
  EXPECT_EQ(HashOf(R"({"v": 42})"), HashOf(R"({"v": 42.0})"));
  EXPECT_EQ(HashOf(R"({"v": 42})"), HashOf(R"({"v": 42.9})"));  // truncated, as mongod
  EXPECT_EQ(HashOf(R"({"v": 42})"), HashOf(R"({"v": {"$numberDecimal": "42"}})"));
  EXPECT_EQ(HashOf(R"({"v": 0})"), HashOf(R"({"v": {"$numberDouble": "NaN"}})"));
  EXPECT_NE(HashOf(R"({"v": 42})"), HashOf(R"({"v": "42"})"));
  EXPECT_NE(HashOf(R"({"v": {"a": 1}})"), HashOf(R"({"v": {"b": 1}})"));
  EXPECT_NE(HashOf(R"({"v": [1, 2]})"), HashOf(R"({"v": {"0": 1, "1": 2}})"));
  EXPECT_NE(HashOf(R"({"v": null})"), HashOf(R"({"v": {"$undefined": true}})"));
}

}  // namespace
}  // namespace docket
