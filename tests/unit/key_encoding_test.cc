// The order-preserving key encoding must agree with CompareValues on every
// pair of values: checked on hand-picked edge cases and on random pairs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "bson/key_encoding.h"
#include "bson/value.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

struct Values {
  std::vector<Document> holders;  // each {"v": value}
  void Add(const Document& d) { holders.push_back(d); }
  void Iter(size_t i, bson_iter_t* it) const { holders[i].Find("v", it); }
};

Document Holder(const std::function<void(bson_t*)>& build) {
  bson_t b = BSON_INITIALIZER;
  build(&b);
  Document d = *Document::FromBson(&b);
  bson_destroy(&b);
  return d;
}

Values EdgeCases() {
  Values v;
  for (const char* json : {
           R"({"v": {"$minKey": 1}})", R"({"v": null})", R"({"v": 0})", R"({"v": -0.0})", R"({"v": 1})",
           R"({"v": {"$numberLong": "1"}})", R"({"v": 1.0})", R"({"v": {"$numberDecimal": "1.00"}})",
           R"({"v": {"$numberDecimal": "0.1"}})", R"({"v": 0.1})", R"({"v": {"$numberDecimal": "-0.1"}})",
           R"({"v": -0.1})", R"({"v": {"$numberLong": "9007199254740993"}})", R"({"v": 9007199254740992.0})",
           R"({"v": {"$numberLong": "9223372036854775807"}})", R"({"v": 9.3e18})",
           R"({"v": {"$numberLong": "-9223372036854775808"}})", R"({"v": {"$numberDecimal": "1E+6000"}})",
           R"({"v": {"$numberDecimal": "-1E+6000"}})", R"({"v": {"$numberDecimal": "1E-6000"}})",
           R"({"v": {"$numberDecimal": "NaN"}})", R"({"v": {"$numberDecimal": "Infinity"}})",
           R"({"v": {"$numberDecimal": "0.30000000000000001"}})", R"({"v": {"$numberDecimal": "0.3"}})",
           R"({"v": 0.3})", R"({"v": 1e308})", R"({"v": 5e-324})", R"({"v": ""})", R"({"v": "a"})",
           R"({"v": "a\u0000"})", R"({"v": "ab"})", R"({"v": "b"})", R"({"v": {}})", R"({"v": {"a": 1}})",
           R"({"v": {"a": 1, "b": 1}})", R"({"v": {"a": "x"}})", R"({"v": {"b": 0}})", R"({"v": []})",
           R"({"v": [1]})", R"({"v": [1, 2]})", R"({"v": [2]})", R"({"v": [[1]]})",
           R"({"v": {"$binary": {"base64": "AQ==", "subType": "00"}}})",
           R"({"v": {"$binary": {"base64": "AQI=", "subType": "00"}}})",
           R"({"v": {"$oid": "000000000000000000000001"}})", R"({"v": {"$oid": "ff0000000000000000000000"}})",
           R"({"v": false})", R"({"v": true})", R"({"v": {"$date": {"$numberLong": "-5"}}})",
           R"({"v": {"$date": {"$numberLong": "5"}}})", R"({"v": {"$timestamp": {"t": 1, "i": 2}}})",
           R"({"v": {"$regularExpression": {"pattern": "a", "options": "i"}}})", R"({"v": {"$maxKey": 1}})"}) {
    v.Add(J(json));
  }
  v.Add(Holder([](bson_t* b) { BSON_APPEND_DOUBLE(b, "v", std::numeric_limits<double>::quiet_NaN()); }));
  v.Add(Holder([](bson_t* b) { BSON_APPEND_DOUBLE(b, "v", -std::numeric_limits<double>::infinity()); }));
  v.Add(Holder([](bson_t* b) { BSON_APPEND_DOUBLE(b, "v", std::numeric_limits<double>::infinity()); }));
  return v;
}

void ExpectEncodingAgrees(const Values& values) {
  for (size_t i = 0; i < values.holders.size(); ++i) {
    for (size_t j = 0; j < values.holders.size(); ++j) {
      bson_iter_t a, b;
      values.Iter(i, &a);
      values.Iter(j, &b);
      std::string ka, kb;
      bson::AppendKeyValue(&ka, a);
      bson::AppendKeyValue(&kb, b);
      ASSERT_EQ(Sign(ka.compare(kb)), Sign(bson::CompareValues(a, b)))
          << values.holders[i].ToJson() << " vs " << values.holders[j].ToJson();
    }
  }
}

TEST(KeyEncodingTest, AgreesWithCompareOnEdgeCases) { ExpectEncodingAgrees(EdgeCases()); }

TEST(KeyEncodingTest, NumbersCompareByValueAcrossTypes) {
  auto cmp = [](const char* x, const char* y) {
    Document a = J(std::string("{\"v\": ") + x + "}"), b = J(std::string("{\"v\": ") + y + "}");
    bson_iter_t ia, ib;
    a.Find("v", &ia);
    b.Find("v", &ib);
    return bson::CompareValues(ia, ib);
  };
  EXPECT_EQ(cmp("1", R"({"$numberDecimal": "1.0"})"), 0);
  EXPECT_EQ(cmp(R"({"$numberLong": "9007199254740993"})", "9007199254740992.0"), 1);
  EXPECT_EQ(cmp(R"({"$numberDecimal": "0.1"})", "0.1"), -1);
  EXPECT_EQ(cmp("-0.0", "0"), 0);
  EXPECT_EQ(cmp("1", "\"1\""), -1);  // numbers before strings
}

TEST(KeyEncodingTest, AgreesWithCompareOnRandomNumbers) {
  std::mt19937_64 rng(42);
  Values values;
  for (int i = 0; i < 300; ++i) {
    int kind = static_cast<int>(rng() % 4);
    int64_t small = static_cast<int64_t>(rng() % 2001) - 1000;
    values.Add(Holder([&](bson_t* b) {
      switch (kind) {
        case 0: BSON_APPEND_INT32(b, "v", static_cast<int32_t>(small)); break;
        case 1: BSON_APPEND_INT64(b, "v", (rng() % 2) ? small : static_cast<int64_t>(rng())); break;
        case 2: BSON_APPEND_DOUBLE(b, "v", static_cast<double>(small) / static_cast<double>(1 + rng() % 16)); break;
        default: {
          bson_decimal128_t d;
          std::string text = std::to_string(small) + "E" + std::to_string(static_cast<int>(rng() % 9) - 4);
          bson_decimal128_from_string(text.c_str(), &d);
          BSON_APPEND_DECIMAL128(b, "v", &d);
        }
      }
    }));
  }
  ExpectEncodingAgrees(values);
}

}  // namespace
}  // namespace docket
