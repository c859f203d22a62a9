// Collations (text/collation.h): MongoDB's parsing rules and codes, ICU's
// order, and the comparison keys that index keys and hashing rely on
// (their byte order must be the collator's order, on random strings too).
#include <gtest/gtest.h>

#include <unicode/uvernum.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "bson/string_order.h"
#include "bson/value.h"
#include "test_util.h"
#include "text/collation.h"

namespace docket {
namespace {

using testing::J;
using text::Collator;

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

text::CollatorPtr Make(const char* json) {
  auto c = Collator::Make(J(json));
  EXPECT_TRUE(c.ok()) << json << ": " << c.status().ToString();
  return c.ok() ? *c : nullptr;
}

ErrorCode CodeOf(const char* json) {
  auto c = Collator::Make(J(json));
  return c.ok() ? ErrorCode::kOk : c.status().code();
}

TEST(CollationTest, SimpleIsNoCollator) {
  auto c = Collator::Make(J(R"({"locale": "simple"})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, nullptr);
  EXPECT_EQ(CodeOf(R"({"locale": "simple", "strength": 2})"), ErrorCode::kFailedToParse);
}

TEST(CollationTest, RefusesWhatMongoDBRefuses) {
  EXPECT_EQ(CodeOf(R"({})"), ErrorCode::kNoSuchKey);
  EXPECT_EQ(CodeOf(R"({"locale": 1})"), ErrorCode::kTypeMismatch);
  EXPECT_EQ(CodeOf(R"({"locale": ""})"), ErrorCode::kBadValue);
  EXPECT_EQ(CodeOf(R"({"locale": "xx_no_such"})"), ErrorCode::kBadValue);
  EXPECT_EQ(CodeOf(R"({"locale": "en-US"})"), ErrorCode::kBadValue);  // not canonical: en_US
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 0})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 6})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 2.5})"), ErrorCode::kBadValue);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": "2"})"), ErrorCode::kTypeMismatch);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "caseLevel": 1})"), ErrorCode::kTypeMismatch);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "caseFirst": "first"})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "alternate": "ignore"})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "maxVariable": "all"})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "colour": true})"), ErrorCode::kFailedToParse);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 1, "backwards": true})"), ErrorCode::kBadValue);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 2, "caseFirst": "upper"})"), ErrorCode::kBadValue);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "version": "1.0"})"), ErrorCode(161));
  EXPECT_EQ(CodeOf(R"({"locale": "en", "strength": 2, "caseFirst": "upper", "caseLevel": true})"), ErrorCode::kOk);
  EXPECT_EQ(CodeOf(R"({"locale": "en", "version": "57.1"})"), ErrorCode::kOk);
}

TEST(CollationTest, AcceptsMongoDBsLocales) {
  for (const char* locale : {"af", "ar", "de", "de_AT", "de@collation=phonebook", "en", "en_US", "en_US_POSIX", "es",
                             "es@collation=search", "fr", "fr_CA", "ja", "ko", "ru", "sv", "tr", "zh",
                             "zh@collation=stroke", "zh_Hant", "he", "hi", "pt"}) {
    const std::string json = std::string(R"({"locale": ")") + locale + "\"}";
    auto c = Collator::Make(J(json.c_str()));
    EXPECT_TRUE(c.ok()) << locale << ": " << c.status().ToString();
  }
}

TEST(CollationTest, FullFormHasEveryOptionWithTheLocalesDefaults) {
  auto en = Make(R"({"locale": "en_US"})");
  ASSERT_NE(en, nullptr);
  EXPECT_EQ(en->spec().ToJson(),
            J(R"({"locale": "en_US", "caseLevel": false, "caseFirst": "off", "strength": 3, "numericOrdering": false,
                 "alternate": "non-ignorable", "maxVariable": "punct", "normalization": false, "backwards": false,
                 "version": ")" U_ICU_VERSION R"("})")
                .ToJson());
  auto fr_ca = Make(R"({"locale": "fr_CA"})");
  ASSERT_NE(fr_ca, nullptr);
  bson_iter_t it;
  ASSERT_TRUE(fr_ca->spec().Find("backwards", &it));
  EXPECT_TRUE(bson_iter_bool(&it));  // Canadian French weighs accents from the end
  auto two = Make(R"({"locale": "en", "strength": 2})");
  ASSERT_TRUE(two->spec().Find("strength", &it));
  EXPECT_EQ(bson_iter_int32(&it), 2);
  EXPECT_TRUE(text::SameCollation(Make(R"({"locale": "en", "strength": 3})").get(), Make(R"({"locale": "en"})").get()));
  EXPECT_FALSE(text::SameCollation(two.get(), Make(R"({"locale": "en"})").get()));
  EXPECT_FALSE(text::SameCollation(two.get(), nullptr));
}

TEST(CollationTest, StrengthCaseNumericAndAlternate) {
  auto primary = Make(R"({"locale": "en", "strength": 1})");
  auto secondary = Make(R"({"locale": "en", "strength": 2})");
  auto tertiary = Make(R"({"locale": "en"})");
  EXPECT_EQ(primary->CompareStrings("cafe", "Café"), 0);
  EXPECT_NE(secondary->CompareStrings("cafe", "café"), 0);
  EXPECT_EQ(secondary->CompareStrings("Ada", "ada"), 0);
  EXPECT_NE(tertiary->CompareStrings("Ada", "ada"), 0);
  EXPECT_LT(tertiary->CompareStrings("apple", "Banana"), 0);  // binary order would put "B" first
  auto upper = Make(R"({"locale": "en", "caseFirst": "upper"})");
  EXPECT_LT(upper->CompareStrings("A", "a"), 0);
  EXPECT_GT(tertiary->CompareStrings("A", "a"), 0);
  auto numeric = Make(R"({"locale": "en", "numericOrdering": true})");
  EXPECT_LT(numeric->CompareStrings("2", "10"), 0);
  EXPECT_GT(tertiary->CompareStrings("2", "10"), 0);
  auto shifted = Make(R"({"locale": "en", "alternate": "shifted"})");
  EXPECT_EQ(shifted->CompareStrings("a-b", "ab"), 0);
  EXPECT_NE(tertiary->CompareStrings("a-b", "ab"), 0);
  auto case_level = Make(R"({"locale": "en", "strength": 1, "caseLevel": true})");
  EXPECT_NE(case_level->CompareStrings("a", "A"), 0);
  EXPECT_EQ(case_level->CompareStrings("a", "á"), 0);
}

// The sort key's bytes order as the collator does, and are equal exactly when
// the strings compare equal: what index keys and group keys rely on.
TEST(CollationTest, SortKeysOrderAsTheCollator) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "A", "b", "B", "é", "É", "e", "-", " ", "1", "2", "10", "ß", "ss",
                                             "\xc3\xa5", "z", "Z", "ä", "\xe4\xb8\xad"};
  for (const char* spec : {R"({"locale": "en"})", R"({"locale": "en", "strength": 1})",
                           R"({"locale": "de", "strength": 2})", R"({"locale": "sv", "numericOrdering": true})",
                           R"({"locale": "fr_CA", "alternate": "shifted"})"}) {
    auto c = Make(spec);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 2000; ++i) {
      std::string a, b;
      for (int n = rng() % 5; n > 0; --n) a += alphabet[rng() % alphabet.size()];
      for (int n = rng() % 5; n > 0; --n) b += alphabet[rng() % alphabet.size()];
      const std::string ka = c->SortKey(a), kb = c->SortKey(b);
      EXPECT_EQ(ka.find('\0'), std::string::npos);
      ASSERT_EQ(Sign(ka.compare(kb)), c->CompareStrings(a, b)) << spec << " '" << a << "' '" << b << "'";
    }
  }
}

TEST(CollationTest, ValuesCompareByTheCollationAtAnyDepth) {
  auto ci = Make(R"({"locale": "en", "strength": 2})");
  Document a = J(R"({"v": {"name": "ADA", "tags": ["X", 1]}})");
  Document b = J(R"({"v": {"name": "ada", "tags": ["x", 1]}})");
  Document c = J(R"({"v": {"NAME": "ada", "tags": ["x", 1]}})");  // field names are not collated
  bson_iter_t x, y, z;
  a.Find("v", &x);
  b.Find("v", &y);
  c.Find("v", &z);
  EXPECT_NE(bson::CompareValues(x, y), 0);
  EXPECT_EQ(bson::CompareValues(x, y, ci.get()), 0);
  EXPECT_NE(bson::CompareValues(x, z, ci.get()), 0);
  // The comparison keys compare without the collation as the values with it.
  const std::string kx = bson::ComparisonKey(x, ci.get()), ky = bson::ComparisonKey(y, ci.get());
  bson_iter_t hx, hy;
  bson::IterHeldValue(kx, &hx);
  bson::IterHeldValue(ky, &hy);
  EXPECT_EQ(bson::CompareValues(hx, hy), 0);
  Document n = J(R"({"v": 5})");
  bson_iter_t nv;
  n.Find("v", &nv);
  EXPECT_FALSE(bson::HasStrings(nv));
  EXPECT_TRUE(bson::HasStrings(x));
}

// Writers insert case variants of the same few e-mail addresses into a
// case-insensitive unique index while readers run collated finds and sorts:
// in the end each address is there exactly once (one writer of each group
// won), and every read saw a consistent, ordered answer. Real threads; also
// run under ThreadSanitizer (scripts/test.sh), which checks that the
// collator is shared safely.
TEST(CollationConcurrencyTest, CaseVariantsRaceIntoAUniqueIndexAndOneWinsEach) {
  testing::TempDir dir;
  auto engine = Engine::Open({.path = dir.path(), .in_memory = true});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Collection c = (*engine)->collection("t", "users");
  auto created = c.CreateIndexes(
      {J(R"({"key": {"email": 1}, "name": "email_ci", "unique": true, "collation": {"locale": "en", "strength": 2}})")});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  constexpr int kAddresses = 20, kWriters = 4;
  std::atomic<int> inserted{0}, duplicates{0}, other_errors{0}, bad_reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kAddresses; ++i) {
        std::string email = "user" + std::to_string(i) + "@example.com";
        for (size_t k = 0; k < email.size(); ++k) {
          if ((k + static_cast<size_t>(w)) % 3 == 0) email[k] = static_cast<char>(std::toupper(email[k]));
        }
        auto r = c.InsertOne(J(R"({"email": ")" + email + R"("})"));
        if (r.ok()) ++inserted;
        else if (r.status().code() == ErrorCode::kDuplicateKey) ++duplicates;
        else ++other_errors;
      }
    });
  }
  for (int reader = 0; reader < 2; ++reader) {
    threads.emplace_back([&] {
      FindOptions options;
      options.collation = J(R"({"locale": "en", "strength": 2})");
      options.sort = J(R"({"email": 1})");
      for (int round = 0; round < 30; ++round) {
        auto one = c.FindOne(J(R"({"email": "USER7@EXAMPLE.COM"})"), options);
        if (!one.ok()) ++bad_reads;
        auto cursor = c.Find(Document(), options);
        if (!cursor.ok()) {
          ++bad_reads;
          continue;
        }
        auto docs = cursor->ToVector();
        if (!docs.ok()) {
          ++bad_reads;
          continue;
        }
        // Sorted by the collation, never two equal addresses.
        auto collator = *Collator::Make(J(R"({"locale": "en", "strength": 2})"));
        for (size_t i = 1; i < docs->size(); ++i) {
          bson_iter_t a, b;
          (*docs)[i - 1].Find("email", &a);
          (*docs)[i].Find("email", &b);
          if (bson::CompareValues(a, b, collator.get()) >= 0) ++bad_reads;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(inserted.load(), kAddresses);
  EXPECT_EQ(duplicates.load(), kAddresses * (kWriters - 1));
  CountOptions ci;
  ci.collation = J(R"({"locale": "en", "strength": 2})");
  for (int i = 0; i < kAddresses; ++i) {
    auto n = c.CountDocuments(J(R"({"email": "USER)" + std::to_string(i) + R"(@EXAMPLE.COM"})"), ci);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1) << i;
  }
  auto valid = c.Validate();
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(valid->valid());
}

}  // namespace
}  // namespace docket
