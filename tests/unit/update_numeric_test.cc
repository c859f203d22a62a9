// $mul on a missing field sets it to multiplier * int32 0, as MongoDB's
// ArithmeticNode computes it: the value's sign, exponent and NaN-ness are
// part of the answer, which tests/cases (comparing values, where -0.0 equals
// 0 and decimal 0.00 equals 0) cannot see. Here the stored bytes are checked.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_util.h"
#include "update/update.h"

namespace docket {
namespace {

using testing::J;

// The field `m` after {$mul: {m: <multiplier>}} on {_id: 1}.
bson_iter_t MulOnMissing(const std::string& multiplier, Document* holder) {
  auto update = update::Update::Compile(J(R"({"$mul": {"m": )" + multiplier + "}}"));
  EXPECT_TRUE(update.ok()) << update.status().ToString();
  bool changed = false;
  auto out = update->Apply(J(R"({"_id": 1})"), false, &changed);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  *holder = *out;
  bson_iter_t it;
  EXPECT_TRUE(holder->Find("m", &it)) << multiplier;
  return it;
}

std::string DecimalText(const bson_iter_t& it) {
  bson_decimal128_t value;
  EXPECT_TRUE(bson_iter_decimal128(&it, &value));
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&value, text);
  return text;
}

TEST(UpdateNumericTest, MulOnAMissingFieldKeepsTheMultipliersType) {
  Document holder;
  bson_iter_t it = MulOnMissing("-3", &holder);
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_INT32);
  EXPECT_EQ(bson_iter_int32(&it), 0);
  it = MulOnMissing(R"({"$numberLong": "-7"})", &holder);
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_INT64);
  EXPECT_EQ(bson_iter_int64(&it), 0);
}

TEST(UpdateNumericTest, MulOnAMissingFieldIsTheMultiplierTimesZero) {
  Document holder;
  bson_iter_t it = MulOnMissing("-2.5", &holder);
  ASSERT_EQ(bson_iter_type(&it), BSON_TYPE_DOUBLE);
  EXPECT_EQ(bson_iter_double(&it), 0.0);
  EXPECT_TRUE(std::signbit(bson_iter_double(&it))) << "-2.5 * 0 is -0.0";
  it = MulOnMissing("2.5", &holder);
  EXPECT_FALSE(std::signbit(bson_iter_double(&it)));
  for (const char* infinite : {R"({"$numberDouble": "Infinity"})", R"({"$numberDouble": "-Infinity"})",
                               R"({"$numberDouble": "NaN"})"}) {
    it = MulOnMissing(infinite, &holder);
    EXPECT_TRUE(std::isnan(bson_iter_double(&it))) << infinite;
  }
  it = MulOnMissing(R"({"$numberDecimal": "-2.5"})", &holder);
  EXPECT_EQ(DecimalText(it), "-0.0");
  it = MulOnMissing(R"({"$numberDecimal": "2.50"})", &holder);
  EXPECT_EQ(DecimalText(it), "0.00");
  it = MulOnMissing(R"({"$numberDecimal": "Infinity"})", &holder);
  EXPECT_EQ(DecimalText(it), "NaN");
}

}  // namespace
}  // namespace docket
