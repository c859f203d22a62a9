// What the fuzzers found (fuzz/regressions/<target>/ holds the inputs), as
// MongoDB answers it: a filter or projection that was undefined behaviour,
// overflowed or ran for minutes now gives MongoDB's result or error code.
#include <gtest/gtest.h>

#include <string>

#include "expr/dates.h"
#include "query/filter.h"
#include "query/projection.h"
#include "update/update.h"
#include "test_util.h"

namespace docket {
namespace {

using query::Filter;
using query::Projection;
using testing::J;

// {v: <expression>} projected ($project) from `doc`.
Result<Document> Project(const std::string& expression, const std::string& doc = R"({"_id": 1})") {
  auto projection = Projection::Compile(J(R"({"_id": 0, "v": )" + expression + "}"), nullptr,
                                        Projection::Dialect::kAggregate);
  if (!projection.ok()) return projection.status();
  return projection->Apply(J(doc));
}

// A date field `d` at `millis` since the epoch.
std::string DateDoc(int64_t millis) {
  return R"({"_id": 1, "d": {"$date": {"$numberLong": ")" + std::to_string(millis) + R"("}}})";
}

int Code(const Status& s) { return static_cast<int>(s.code()); }

// {"a": {"$type": <code_json>}}, built with libbson: the JSON parser reads
// {"$type": <number>} as the legacy binary form.
Result<Filter> TypeFilter(const std::string& code_json) {
  Document code = J(R"({"x": )" + code_json + "}");
  bson_iter_t it;
  EXPECT_TRUE(code.Find("x", &it));
  bson_t out, child;
  bson_init(&out);
  bson_append_document_begin(&out, "a", -1, &child);
  bson_append_iter(&child, "$type", -1, &it);
  bson_append_document_end(&out, &child);
  auto filter = Document::FromBson(&out);
  bson_destroy(&out);
  EXPECT_TRUE(filter.ok());
  return Filter::Compile(*filter);
}

// ---- filter_fuzz: $type codes (src/query/predicates.cc) ----

TEST(FuzzFindingsTest, TypeCodeOutOfInt64RangeIsBadValue) {
  for (const char* code : {"1e300", "-9.3e18", R"({"$numberDouble": "NaN"})", R"({"$numberDouble": "Infinity"})",
                           "2.5", "20", "-2"}) {
    auto filter = TypeFilter(code);
    ASSERT_FALSE(filter.ok()) << code;
    EXPECT_EQ(filter.status().code(), ErrorCode::kBadValue) << code;
    EXPECT_NE(filter.status().message().find("Invalid numerical type code"), std::string::npos) << code;
  }
  auto in_array = TypeFilter(R"(["string", -9.3e18])");
  ASSERT_FALSE(in_array.ok());
  EXPECT_EQ(in_array.status().code(), ErrorCode::kBadValue);
}

TEST(FuzzFindingsTest, TypeCodeZeroPointsToExists) {
  auto filter = TypeFilter("0");
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), ErrorCode::kBadValue);
  EXPECT_NE(filter.status().message().find("Instead use {$exists:false}"), std::string::npos)
      << filter.status().message();
}

TEST(FuzzFindingsTest, ValidTypeCodesStillMatch) {
  for (const char* code : {"2", "2.0", "-1", "127", R"({"$numberLong": "16"})"}) {
    EXPECT_TRUE(TypeFilter(code).ok()) << code;
  }
  auto filter = TypeFilter("2.0");
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->Matches(J(R"({"a": "x"})")));
  EXPECT_FALSE(filter->Matches(J(R"({"a": 1})")));
}

// ---- projection_fuzz: dates at the ends of the int64 range (src/expr/dates.cc) ----

TEST(FuzzFindingsTest, BreakDownIsDefinedForTheWholeRange) {
  // INT64_MIN + 62 is the fuzzer's date: floor(millis / day) * day left int64.
  for (int64_t millis : {INT64_MIN, INT64_MIN + 62, int64_t{-1}, int64_t{0}, INT64_MAX}) {
    expr::DateParts p = expr::BreakDown(millis);
    EXPECT_GE(p.hour, 0) << millis;
    EXPECT_LE(p.hour, 23) << millis;
    EXPECT_GE(p.millisecond, 0) << millis;
    EXPECT_LE(p.millisecond, 999) << millis;
    EXPECT_GE(p.month, 1) << millis;
    EXPECT_LE(p.month, 12) << millis;
  }
  // -292275055-05-16T16:47:04.192Z and +292278994-08-17T07:12:55.807Z.
  expr::DateParts low = expr::BreakDown(INT64_MIN);
  EXPECT_EQ(low.year, -292275055);
  EXPECT_EQ(low.month, 5);
  EXPECT_EQ(low.day, 16);
  EXPECT_EQ(low.hour, 16);
  EXPECT_EQ(low.millisecond, 192);
  expr::DateParts high = expr::BreakDown(INT64_MAX);
  EXPECT_EQ(high.year, 292278994);
  EXPECT_EQ(high.month, 8);
  EXPECT_EQ(high.day, 17);
  EXPECT_EQ(high.millisecond, 807);
  // A local time past the end of the range: the offset is not added to the instant.
  expr::DateParts east = expr::BreakDownLocal(INT64_MAX, 14 * 3600000LL);
  EXPECT_EQ(east.day, 17);
  EXPECT_EQ(east.hour, 21);
}

TEST(FuzzFindingsTest, DateToStringFarOutOfRange) {
  // The fuzzer's input: a format without directives prints as it is.
  auto literal = Project(R"({"$dateToString": {"date": "$d", "format": "x"}})", DateDoc(INT64_MIN + 62));
  ASSERT_TRUE(literal.ok()) << literal.status().ToString();
  EXPECT_EQ(literal->ToJson(), R"({ "v" : "x" })");
  // A year MongoDB cannot print: Location18537.
  for (int64_t millis : {INT64_MIN + 62, INT64_MAX, int64_t{253402300800000}}) {  // the last: 10000-01-01
    auto year = Project(R"({"$dateToString": {"date": "$d", "format": "%Y"}})", DateDoc(millis));
    ASSERT_FALSE(year.ok()) << millis;
    EXPECT_EQ(Code(year.status()), 18537) << millis;
    if (millis != 253402300800000) {
      auto iso_year = Project(R"({"$dateToString": {"date": "$d", "format": "%G"}})", DateDoc(millis));
      ASSERT_FALSE(iso_year.ok()) << millis;
      EXPECT_EQ(Code(iso_year.status()), 18537) << millis;
    }
    auto text = Project(R"({"$toString": "$d"})", DateDoc(millis));
    ASSERT_FALSE(text.ok()) << millis;
    EXPECT_EQ(Code(text.status()), 18537) << millis;
  }
  auto hour = Project(R"({"$dateToString": {"date": "$d", "format": "%H:%M", "timezone": "+14:00"}})",
                      DateDoc(INT64_MAX));
  ASSERT_TRUE(hour.ok()) << hour.status().ToString();
  EXPECT_EQ(hour->ToJson(), R"({ "v" : "21:12" })");
  auto last = Project(R"({"$dateToString": {"date": "$d"}})", DateDoc(253402300799999));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->ToJson(), R"({ "v" : "9999-12-31T23:59:59.999Z" })");
}

TEST(FuzzFindingsTest, DatePartsAtTheEndsOfTheRange) {
  auto parts = Project(R"({"$dateToParts": {"date": "$d", "timezone": "-10:00"}})", DateDoc(INT64_MIN));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->ToJson(), R"({ "v" : { "year" : -292275055, "month" : 5, "day" : 16, "hour" : 6, )"
                             R"("minute" : 47, "second" : 4, "millisecond" : 192 } })");
  auto hour = Project(R"({"$hour": {"date": "$d", "timezone": "America/New_York"}})", DateDoc(INT64_MAX));
  ASSERT_TRUE(hour.ok()) << hour.status().ToString();
}

TEST(FuzzFindingsTest, DateAddOverflowIsAnError) {
  // MongoDB: 5976500 for an amount that cannot fit a date, 5166406 when the sum leaves the range.
  auto huge = Project(R"({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1e15}})", DateDoc(0));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(Code(huge.status()), 5976500);
  auto past_end = Project(R"({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 200000000000}})",
                          DateDoc(0));
  ASSERT_FALSE(past_end.ok());
  EXPECT_EQ(Code(past_end.status()), 5166406);
  auto millis = Project(R"({"$dateAdd": {"startDate": "$d", "unit": "millisecond", "amount": 1}})",
                        DateDoc(INT64_MAX));
  ASSERT_FALSE(millis.ok());
  EXPECT_EQ(Code(millis.status()), 5166406);
  auto years = Project(R"({"$dateAdd": {"startDate": "$d", "unit": "year", "amount": 500000000}})", DateDoc(0));
  ASSERT_FALSE(years.ok());
  EXPECT_EQ(Code(years.status()), 5166406);
  auto negated = Project(
      R"({"$dateSubtract": {"startDate": "$d", "unit": "millisecond", "amount": {"$numberLong": "-9223372036854775808"}}})",
      DateDoc(0));
  ASSERT_FALSE(negated.ok());
  EXPECT_EQ(Code(negated.status()), 6045000);
  auto fine = Project(R"({"$dateAdd": {"startDate": "$d", "unit": "month", "amount": 1}})",
                      DateDoc(1706659200000));  // 2024-01-31 -> 2024-02-29
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->ToJson(), R"({ "v" : { "$date" : "2024-02-29T00:00:00Z" } })");
}

TEST(FuzzFindingsTest, DateDiffAndTruncAtTheEnds) {
  auto diff = Project(R"({"$dateDiff": {"startDate": "$d", "endDate": {"$toDate": {"$numberLong": "1000000000000"}}, "unit": "millisecond"}})",
                      DateDoc(INT64_MIN));
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(Code(diff.status()), 5166308);
  auto days = Project(R"({"$dateDiff": {"startDate": "$d", "endDate": {"$toDate": {"$numberLong": "0"}}, "unit": "day"}})",
                      DateDoc(INT64_MIN));
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  auto trunc = Project(R"({"$dateTrunc": {"date": "$d", "unit": "second"}})", DateDoc(INT64_MIN));
  ASSERT_FALSE(trunc.ok());
  EXPECT_EQ(Code(trunc.status()), 5439001);
  auto width = Project(R"({"$dateTrunc": {"date": "$d", "unit": "hour", "binSize": 9000000000000}})", DateDoc(0));
  ASSERT_FALSE(width.ok());
  EXPECT_EQ(Code(width.status()), 5439002);
  auto bins = Project(R"({"$dateTrunc": {"date": "$d", "unit": "week", "binSize": 200000000000}})", DateDoc(0));
  ASSERT_FALSE(bins.ok());
  EXPECT_EQ(Code(bins.status()), 5439006);
  auto week = Project(R"({"$dateTrunc": {"date": "$d", "unit": "week", "binSize": 2}})",
                      DateDoc(1718409600000));  // Saturday 2024-06-15
  ASSERT_TRUE(week.ok()) << week.status().ToString();
  // Its week starts on Sunday 2024-06-09, the 1275th week after the reference
  // (Sunday 2000-01-02): the bin of two weeks starts a week before.
  EXPECT_EQ(week->ToJson(), R"({ "v" : { "$date" : "2024-06-02T00:00:00Z" } })");
}

// ---- filter_fuzz: $add / $subtract with a date (src/expr/ops_arithmetic.cc) ----

TEST(FuzzFindingsTest, DateArithmeticOverflowIsMongosOverflowError) {
  for (const char* e : {R"({"$add": [{"$numberDouble": "NaN"}, "$d"]})",
                        R"({"$add": [{"$numberLong": "9223372036854775807"}, "$d"]})",
                        R"({"$add": [1e300, "$d"]})",
                        R"({"$subtract": ["$d", {"$numberLong": "-9223372036854775808"}]})",
                        R"({"$subtract": ["$d", {"$toDate": {"$numberLong": "-9223372036854775808"}}]})"}) {
    auto r = Project(e, DateDoc(1));
    ASSERT_FALSE(r.ok()) << e;
    EXPECT_EQ(Code(r.status()), 15) << e << " " << r.status().ToString();
  }
  auto fine = Project(R"([{"$add": ["$d", 1.6]}, {"$subtract": ["$d", 1]}, {"$subtract": ["$d", "$d"]}])", DateDoc(1));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->ToJson(), R"({ "v" : [ { "$date" : "1970-01-01T00:00:00.003Z" }, )"
                            R"({ "$date" : "1970-01-01T00:00:00Z" }, 0 ] })");
}

// ---- projection_fuzz timeouts: $range (src/expr/ops_array.cc) ----

TEST(FuzzFindingsTest, RangeOverMongosMemoryLimitIsRefused) {
  // 16318580 elements: 261 MB by MongoDB's estimate, over its 100 MB limit (ExceededMemoryLimit).
  for (const char* range : {"[0, 16318580]", "[0, 1946157056]", "[2147483647, -2147483648, -1]"}) {
    auto r = Project(std::string(R"({"$range": )") + range + "}");
    ASSERT_FALSE(r.ok()) << range;
    EXPECT_EQ(Code(r.status()), 146) << range;
    EXPECT_NE(r.status().message().find("Memory limit: 104857600 bytes"), std::string::npos);
  }
}

TEST(FuzzFindingsTest, RangeOver16MBIsTooLarge) {
  // 2371956 elements fit MongoDB's 100 MB but not a 16 MB BSON value: BSONObjectTooLarge.
  // (That it fails before building the array is a matter of time, for the
  // fuzzers' one-second budget, not for a unit test to clock.)
  auto r = Project(R"({"$range": [0, 2371956]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBSONObjectTooLarge);
}

// projection_fuzz: $convert's `to: -1` (minKey) was cast to bson_type_t as
// 0xFFFFFFFF, a value outside the enumeration (UBSan: invalid load).
TEST(FuzzFindingsTest, ConvertToMinKeyByNumberIsMinKeysConversion) {
  auto by_number = Project(R"({"$convert": {"input": 1, "to": -1, "onError": "caught"}})");
  ASSERT_TRUE(by_number.ok()) << by_number.status().ToString();
  auto by_name = Project(R"({"$convert": {"input": 1, "to": "minKey", "onError": "caught"}})");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_number->ToJson(), by_name->ToJson());
  auto unhandled = Project(R"({"$convert": {"input": 1, "to": -1}})");
  ASSERT_FALSE(unhandled.ok());
  EXPECT_EQ(Project(R"({"$convert": {"input": 1, "to": "minKey"}})").status().code(), unhandled.status().code());
}

TEST(FuzzFindingsTest, RangeBuildsItsArrayExactly) {
  auto small = Project(R"([{"$range": [0, 5]}, {"$range": [0, 10, 4]}, {"$range": [5, 0, -2]}, {"$range": [0, 0]},)"
                       R"( {"$range": [3, 1]}, {"$range": [-3, 9, 5]}])");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->ToJson(), R"({ "v" : [ [ 0, 1, 2, 3, 4 ], [ 0, 4, 8 ], [ 5, 3, 1 ], [  ], [  ], [ -3, 2, 7 ] ] })");
  // Just under 16 MiB with the document around it: built, and valid BSON to the last element.
  auto big = Project(R"({"$size": {"$range": [2147483647, 1000000000, -1000]}})");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->ToJson(), R"({ "v" : 1147484 })");
  auto last = Project(R"({"$last": {"$range": [0, 1200000, 1]}})");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->ToJson(), R"({ "v" : 1199999 })");
}

// ---- update_fuzz: values libbson's appenders rewrite (src/bson/append_element.cc) ----

std::string Int32Bytes(uint32_t v) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// {_id: 1, r: <value of `type` given as its raw bytes>, n: <n>}, written
// byte by byte: libbson's appenders would rewrite the values under test.
Document RawValueDoc(bson_type_t type, const std::string& raw, int n = 1) {
  std::string body;
  body += '\x10' + std::string("_id\0", 4) + Int32Bytes(1);
  body += static_cast<char>(type) + std::string("r\0", 2) + raw;
  body += '\x10' + std::string("n\0", 2) + Int32Bytes(n);
  const std::string bytes = Int32Bytes(static_cast<uint32_t>(4 + body.size() + 1)) + body + '\0';
  auto doc = Document::FromBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *doc : Document();
}

std::string Regex(const std::string& pattern, const std::string& options) {
  return pattern + '\0' + options + '\0';
}
std::string StringValue(const std::string& s) { return Int32Bytes(static_cast<uint32_t>(s.size() + 1)) + s + '\0'; }

struct OddValue {
  const char* what;
  bson_type_t type;
  std::string raw;
};

// Values MongoDB stores and returns exactly as given, which libbson's
// appenders would change: unsorted, unknown and non-ASCII regex options
// (sorted and filtered) and code, code with scope and DBPointer with an
// embedded NUL (cut short at it).
std::vector<OddValue> OddValues() {
  const std::string scope = Int32Bytes(5) + '\0';  // {}
  const std::string code_w_scope = StringValue(std::string("f()\0g", 5)) + scope;
  return {
      {"regex xmi", BSON_TYPE_REGEX, Regex("a.c", "xmi")},
      {"regex mZ", BSON_TYPE_REGEX, Regex("a.c", "mZ")},
      {"regex s\\xff", BSON_TYPE_REGEX, Regex("a.c", "s\xff")},
      {"regex uxsmli", BSON_TYPE_REGEX, Regex("a.c", "uxsmli")},
      {"code with NUL", BSON_TYPE_CODE, StringValue(std::string("o`\0x", 4))},
      {"code with scope with NUL", BSON_TYPE_CODEWSCOPE,
       Int32Bytes(static_cast<uint32_t>(4 + code_w_scope.size())) + code_w_scope},
      {"dbpointer with NUL", BSON_TYPE_DBPOINTER,
       StringValue(std::string("db\0c", 4)) + std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12)},
  };
}

TEST(FuzzFindingsTest, UpdateKeepsOddValuesOfOtherFieldsByteForByte) {
  auto update = update::Update::Compile(J(R"({"$inc": {"n": 1}})"));
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  for (const OddValue& v : OddValues()) {
    bool changed = false;
    auto out = update->Apply(RawValueDoc(v.type, v.raw), false, &changed);
    ASSERT_TRUE(out.ok()) << v.what << ": " << out.status().ToString();
    EXPECT_EQ(out->bytes(), RawValueDoc(v.type, v.raw, 2).bytes()) << v.what;
  }
}

TEST(FuzzFindingsTest, ProjectionAndExpressionsKeepOddValuesByteForByte) {
  for (const OddValue& v : OddValues()) {
    const Document doc = RawValueDoc(v.type, v.raw);
    for (auto dialect : {Projection::Dialect::kFind, Projection::Dialect::kAggregate}) {
      auto projection = Projection::Compile(J(R"({"r": 1, "n": 1})"), nullptr, dialect);
      ASSERT_TRUE(projection.ok()) << projection.status().ToString();
      auto out = projection->Apply(doc);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(out->bytes(), doc.bytes()) << v.what;
    }
    // Through the expression evaluator: {r: {$ifNull: [$missing, $r]}}.
    auto expression = Projection::Compile(J(R"({"r": {"$ifNull": ["$missing", "$r"]}, "n": 1})"), nullptr,
                                          Projection::Dialect::kAggregate);
    ASSERT_TRUE(expression.ok()) << expression.status().ToString();
    auto out = expression->Apply(doc);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    // Computed fields come after included ones: look for r's element as written.
    const std::string element = static_cast<char>(v.type) + std::string("r\0", 2) + v.raw;
    EXPECT_NE(out->bytes().find(element), std::string::npos) << v.what;
    EXPECT_EQ(out->size(), doc.size()) << v.what;
  }
}

TEST(FuzzFindingsTest, StoredOddValuesSurviveUpdatesThroughTheEngine) {
  auto engine = Engine::Open({.in_memory = true});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Collection c = (*engine)->collection("db", "c");
  for (const OddValue& v : OddValues()) {
    ASSERT_TRUE(c.DeleteMany(J("{}")).ok());
    auto inserted = c.InsertOne(RawValueDoc(v.type, v.raw));
    ASSERT_TRUE(inserted.ok()) << v.what << ": " << inserted.status().ToString();
    ASSERT_TRUE(c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"n": 5}})")).ok());
    auto found = c.FindOne(J(R"({"_id": 1})"));
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->bytes(), RawValueDoc(v.type, v.raw, 5).bytes()) << v.what;
  }
}

}  // namespace
}  // namespace docket
