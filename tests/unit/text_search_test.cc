// Text search: the tokenizer, folding, stemming and stop words (text/), text
// index specs and their errors, compound text indexes, and $text read
// through the index against the same query matched on every document (a
// metamorphic check: the index must not lose a match), also while writers
// change the collection (real threads; in the ThreadSanitizer list).
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "docket/engine.h"
#include "bson/builder.h"
#include "test_util.h"
#include "text/text_index_spec.h"
#include "text/text_search.h"
#include "text/text_tokenizer.h"

namespace docket {
namespace {

using testing::J;

std::vector<std::string> Words(std::string_view text, const char* language) {
  std::vector<std::string> out;
  text::ForEachWord(text, *text::FindTextLanguage(language), [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

std::vector<std::string> Terms(std::string_view text, const char* language) {
  std::vector<std::string> out;
  text::ForEachTerm(text, *text::FindTextLanguage(language), {}, [&](std::string t) { out.push_back(std::move(t)); });
  return out;
}

TEST(TextTokenizerTest, SplitsAtMongoDbsDelimiters) {
  using V = std::vector<std::string>;
  // The apostrophe joins in English only; '_' and digits never split.
  EXPECT_EQ(Words("don't stop", "english"), (V{"don't", "stop"}));
  EXPECT_EQ(Words("l'homme", "french"), (V{"l", "homme"}));
  EXPECT_EQ(Words("snake_case v2 3.14", "english"), (V{"snake_case", "v2", "3", "14"}));
  EXPECT_EQ(Words("a-b\u2014c\u2019d \u00abe\u00bb", "none"), (V{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Words("  ,;  ", "english"), V{});
  // CJK ideographs are letters: unspaced text is one word.
  EXPECT_EQ(Words("\u6771\u4eac\u90fd", "none"), (V{"\u6771\u4eac\u90fd"}));
}

TEST(TextTokenizerTest, FoldsCaseAndDiacritics) {
  EXPECT_EQ(text::FoldWord("CAF\u00c9"), "caf\u00e9");
  EXPECT_EQ(text::StripDiacritics("caf\u00e9 na\u00efve se\u0301"), "cafe naive se");
  EXPECT_EQ(text::StripDiacritics("\u00f8"), "\u00f8");  // no decomposition: kept
  EXPECT_EQ(text::FoldWord("I\u0130", text::FoldOptions{.turkish = true}), "\u0131i");
  EXPECT_EQ(text::FoldWord("I"), "i");
  // Simple folding only: sharp s stays.
  EXPECT_EQ(text::FoldWord("STRA\u00dfE"), "stra\u00dfe");
}

TEST(TextTokenizerTest, StemsAndDropsStopWordsPerLanguage) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Terms("The runners were running", "english"), (V{"runner", "run"}));
  EXPECT_EQ(Terms("The runners were running", "none"), (V{"the", "runners", "were", "running"}));
  EXPECT_EQ(Terms("Le chat et les enfants", "french"), (V{"chat", "le", "enfant"}));  // Snowball's list lacks "les"
  // Stop words are checked lower-cased, before diacritics go ("été" is
  // one); the stemmer sees the diacritics ("cafés" stems to "caf").
  EXPECT_EQ(Terms("\u00c9t\u00e9 caf\u00e9s", "french"), (V{"caf"}));
  EXPECT_NE(text::FindTextLanguage("nb"), nullptr);
  EXPECT_EQ(text::FindTextLanguage("norwegian"), text::FindTextLanguage("nb"));
  EXPECT_EQ(text::FindTextLanguage("klingon"), nullptr);
  EXPECT_EQ(text::FindTextLanguageIgnoringCase("EN"), text::FindTextLanguage("english"));
}

TEST(TextSearchTest, ParsesSearchStringsAsMongoDb) {
  auto spec = text::TextIndexSpec::FromIndexSpec(
      J(R"({"key": {"_fts": "text", "_ftsx": 1}, "weights": {"a": 1}, "default_language": "none"})"));
  ASSERT_TRUE(spec.ok());
  auto parse = [&](const char* search) {
    text::TextSearchOptions options;
    options.search = search;
    return text::TextQuery::Make(options, **spec)->Describe().ToJson();
  };
  // mongod's fts_explain.js: "\"a\" -b -\"c\"" with language none.
  EXPECT_EQ(parse("\"a\" -b -\"c\""),
            R"({ "terms" : [ "a" ], "negatedTerms" : [ "b" ], "phrases" : [ "a" ], "negatedPhrases" : [ "c" ] })");
  EXPECT_EQ(parse("foo-bar -baz-qux - x"),
            R"({ "terms" : [ "bar", "foo", "x" ], "negatedTerms" : [ "baz", "qux" ], "phrases" : [  ], "negatedPhrases" : [  ] })");
  // An unclosed phrase: its words are still terms.
  EXPECT_EQ(parse("\"open phrase"),
            R"({ "terms" : [ "open", "phrase" ], "negatedTerms" : [  ], "phrases" : [  ], "negatedPhrases" : [  ] })");
}

TEST(TextSearchTest, ScoresAsMongoDbsFormula) {
  auto spec = text::TextIndexSpec::FromIndexSpec(
      J(R"({"key": {"_fts": "text", "_ftsx": 1}, "weights": {"a": 1, "b": 10}})"));
  ASSERT_TRUE(spec.ok());
  std::map<std::string, double> scores;
  ASSERT_TRUE((*spec)->TermScores(J(R"({"a": "the quick brown fox jumps over the quick dog"})"), &scores).ok());
  EXPECT_DOUBLE_EQ(scores["quick"], 1.0);
  EXPECT_DOUBLE_EQ(scores["brown"], 0.5 + 0.5 / 6);
  ASSERT_TRUE((*spec)->TermScores(J(R"({"a": "test", "b": ["test test", "x"]})"), &scores).ok());
  EXPECT_DOUBLE_EQ(scores["test"], 1.1 + 10 * 1.5);
}

class TextIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = "", .in_memory = true});
    ASSERT_TRUE(opened.ok());
    engine_ = std::move(opened).value();
  }
  Status Create(const char* spec, const char* collection = "c") {
    auto r = engine_->collection("t", collection).CreateIndexes({J(spec)});
    return r.ok() ? Status::OK() : r.status();
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(TextIndexTest, SpecsAreNormalisedAsListIndexesShowsThem) {
  ASSERT_TRUE(Create(R"({"key": {"x": 1, "title": "text", "body": "text", "y": -1}, "weights": {"title": 5},
                         "default_language": "fr"})").ok());
  auto indexes = engine_->collection("t", "c").ListIndexes();
  ASSERT_TRUE(indexes.ok());
  ASSERT_EQ(indexes->size(), 2u);
  EXPECT_EQ((*indexes)[1].ToJson(),
            R"({ "v" : 2, "key" : { "x" : 1, "_fts" : "text", "_ftsx" : 1, "y" : -1 }, "name" : "x_1_title_text_body_text_y_-1", )"
            R"("weights" : { "body" : 1, "title" : 5 }, "default_language" : "fr", "language_override" : "language", )"
            R"("textIndexVersion" : 3 })");
  // The stored form is accepted as it is (a dump restores), and is the same index.
  EXPECT_TRUE(Create(R"({"key": {"x": 1, "_fts": "text", "_ftsx": 1, "y": -1}, "name": "x_1_title_text_body_text_y_-1",
                         "weights": {"body": 1, "title": 5}, "default_language": "fr"})").ok());
  ASSERT_TRUE(Create(R"({"key": {"$**": "text"}})", "w").ok());
  auto wildcard = engine_->collection("t", "w").ListIndexes();
  EXPECT_EQ((*wildcard)[1].ToJson(),
            R"({ "v" : 2, "key" : { "_fts" : "text", "_ftsx" : 1 }, "name" : "$**_text", "weights" : { "$**" : 1 }, )"
            R"("default_language" : "english", "language_override" : "language", "textIndexVersion" : 3 })");
}

TEST_F(TextIndexTest, BadSpecsGetMongoDbsErrors) {
  struct Bad {
    const char* spec;
    int code;
    const char* message;
  } cases[] = {
      {R"({"key": {"a": "text", "b": 1, "c": "text"}})", 67, "'text' fields in index must all be adjacent"},
      {R"({"key": {"a": "text", "b": 2}})", 67, "expected value 1 or -1 for non-text key in compound index"},
      {R"({"key": {"a": "text"}, "weights": {"a": 0.5}})", 67,
       "text index weight must be in the exclusive interval (0,100000) but found: 0"},
      {R"({"key": {"a": "text"}, "weights": {"a": 100000}})", 67,
       "text index weight must be in the exclusive interval (0,100000) but found: 100000"},
      {R"({"key": {"a": "text"}, "weights": {"a": "x"}})", 67, "weight for text index needs numeric type"},
      {R"({"key": {"a": "text"}, "weights": 5})", 67, "text index option 'weights' must be an object"},
      {R"({"key": {"a": "text"}, "weights": {"b.$c": 1}})", 67, "weight cannot have path component with $ prefix"},
      {R"({"key": {"a": "text"}, "default_language": "klingon"})", 67, "default_language is not valid"},
      {R"({"key": {"a": "text"}, "default_language": 5})", 67, "default_language needs a string type"},
      {R"({"key": {"a": "text"}, "language_override": "a.b"})", 67, "language_override is not valid"},
      {R"({"key": {"a": "text"}, "textIndexVersion": "3"})", 67, "text index option 'textIndexVersion' must be a number"},
      {R"({"key": {"a": "text"}, "textIndexVersion": 2})", 67, "bad textIndexVersion: 2"},
      {R"({"key": {"_fts": "text", "_ftsx": 2}})", 67, "expecting _ftsx:1"},
      {R"({"key": {"_fts": "text"}})", 67, "expected _ftsx after _fts"},
      {R"({"key": {"a": "text", "b": "2d"}})", 67, "Can't use more than one index plugin for a single index."},
      {R"({"key": {"a": 1}, "weights": {"a": 1}})", 67, "only valid on a text index"},
      {R"({"key": {"a": "text"}, "collation": {"locale": "fr"}})", 67, "Index type 'text' does not support collation"},
      {R"({"key": {"a": "text"}, "partialFilterExpression": {"$text": {"$search": "x"}}})", 67,
       "$text is not allowed in this context"},
  };
  for (const Bad& bad : cases) {
    Status s = Create(bad.spec);
    EXPECT_EQ(static_cast<int>(s.code()), bad.code) << bad.spec << ": " << s.ToString();
    EXPECT_NE(s.message().find(bad.message), std::string::npos) << bad.spec << ": " << s.ToString() << " (expected "
                                                                << bad.message << ")";
  }
}

TEST_F(TextIndexTest, ValidatorsCannotHoldText) {
  CollectionOptions options;
  options.validator = J(R"({"$and": [{"a": 1}, {"$text": {"$search": "x"}}]})");
  EXPECT_EQ(engine_->CreateCollection("t", "v", options).code(), ErrorCode::kQueryFeatureNotAllowed);
  options.validator = J(R"({"$text": {"$search": "x"}})");
  EXPECT_EQ(engine_->CreateCollection("t", "v", options).code(), ErrorCode::kQueryFeatureNotAllowed);
}

TEST_F(TextIndexTest, OneTextIndexPerCollection) {
  ASSERT_TRUE(Create(R"({"key": {"a": "text"}})").ok());
  EXPECT_TRUE(Create(R"({"key": {"a": "text"}})").ok());  // the same: nothing to do
  Status other_field = Create(R"({"key": {"b": "text"}})");
  EXPECT_EQ(other_field.code(), ErrorCode::kIndexOptionsConflict) << other_field.ToString();
  Status same_name = Create(R"({"key": {"a": "text"}, "name": "a_text", "default_language": "fr"})");
  EXPECT_EQ(same_name.code(), ErrorCode::kIndexOptionsConflict) << same_name.ToString();
  Status compound = Create(R"({"key": {"x": 1, "a": "text"}})");
  EXPECT_EQ(compound.code(), ErrorCode::kCannotCreateIndex) << compound.ToString();
  EXPECT_NE(compound.message().find("only one text index per collection allowed"), std::string::npos);
}

TEST_F(TextIndexTest, CompoundIndexesNeedTheirPrefixEquality) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(Create(R"({"key": {"shop": 1, "title": "text"}})").ok());
  ASSERT_TRUE(c.InsertMany({J(R"({"_id": 1, "shop": "a", "title": "red apple"})"),
                            J(R"({"_id": 2, "shop": "b", "title": "red pear"})"),
                            J(R"({"_id": 3, "title": "red plum"})")}).ok());
  auto ids = [&](const char* filter) {
    auto cursor = c.Find(J(filter));
    if (!cursor.ok()) return std::set<int>{-static_cast<int>(cursor.status().code())};
    auto docs = cursor->ToVector();
    std::set<int> out;
    if (!docs.ok()) return std::set<int>{-static_cast<int>(docs.status().code())};
    for (const Document& d : *docs) {
      bson_iter_t id;
      d.Find("_id", &id);
      out.insert(bson_iter_int32(&id));
    }
    return out;
  };
  EXPECT_EQ(ids(R"({"shop": "a", "$text": {"$search": "red"}})"), (std::set<int>{1}));
  EXPECT_EQ(ids(R"({"$and": [{"shop": {"$eq": "b"}}, {"$text": {"$search": "red pear"}}]})"), (std::set<int>{2}));
  EXPECT_EQ(ids(R"({"shop": null, "$text": {"$search": "red"}})"), (std::set<int>{3}));
  EXPECT_EQ(ids(R"({"$text": {"$search": "red"}})"), (std::set<int>{-291}));
  EXPECT_EQ(ids(R"({"shop": {"$in": ["a"]}, "$text": {"$search": "red"}})"), (std::set<int>{-291}));
  // Prefix values may not be arrays.
  auto array = c.InsertOne(J(R"({"shop": ["a", "b"], "title": "red"})"));
  EXPECT_EQ(array.status().code(), ErrorCode::kCannotBuildIndexKeys) << array.status().ToString();
  // A hint is refused with $text, and a text index cannot be hinted without it.
  FindOptions hinted;
  hinted.hint.name = "shop_1_title_text";
  EXPECT_EQ(c.Find(J(R"({"shop": "a", "$text": {"$search": "red"}})"), hinted).status().code(), ErrorCode::kBadValue);
  EXPECT_EQ(c.Find(J(R"({"shop": "a"})"), hinted).status().code(), ErrorCode::kBadValue);
  // Without a collection, or without a text index: IndexNotFound.
  EXPECT_EQ(engine_->collection("t", "none").Find(J(R"({"$text": {"$search": "x"}})")).status().code(),
            ErrorCode::kIndexNotFound);
  ASSERT_TRUE(engine_->collection("t", "plain").InsertOne(J(R"({"a": "x"})")).ok());
  EXPECT_EQ(engine_->collection("t", "plain").Find(J(R"({"$text": {"$search": "x"}})")).status().code(),
            ErrorCode::kIndexNotFound);
}

// Random documents over a small vocabulary: every $text query through the
// index returns exactly the documents the same query matches when tried on
// each document (so the index never loses a match), in every language mode.
TEST_F(TextIndexTest, IndexReadsAgreeWithMatchingEveryDocument) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(Create(R"({"key": {"title": "text", "tags": "text", "meta.note": "text"}, "weights": {"title": 3}})").ok());
  const char* vocabulary[] = {"Run", "running", "runs", "the", "café", "CAFE", "naïve", "dogs", "dog", "don't",
                              "fox-hole", "Øre", "über", "Straße", "x_y", "42", "\u6771\u4eac"};
  std::mt19937 rng(7);
  auto phrase = [&](int words) {
    std::string s;
    for (int i = 0; i < words; ++i) s += std::string(i ? " " : "") + vocabulary[rng() % std::size(vocabulary)];
    return s;
  };
  std::vector<Document> docs;
  for (int i = 0; i < 300; ++i) {
    std::string json = R"({"_id": )" + std::to_string(i) + R"(, "title": ")" + phrase(1 + rng() % 4) +
                       R"(", "tags": [")" + phrase(1) + R"(", ")" + phrase(2) + R"("], "meta": {"note": ")" +
                       phrase(rng() % 3) + R"("}, "other": ")" + phrase(2) + R"("})";
    docs.push_back(J(json));
  }
  ASSERT_TRUE(c.InsertMany(docs).ok());
  auto spec = text::TextIndexSpec::FromIndexSpec((*c.ListIndexes())[1]);
  ASSERT_TRUE(spec.ok());
  for (int q = 0; q < 200; ++q) {
    text::TextSearchOptions options;
    options.search = phrase(1 + rng() % 3);
    if (rng() % 4 == 0) options.search += " -" + std::string(vocabulary[rng() % std::size(vocabulary)]);
    if (rng() % 5 == 0) options.search = "\"" + phrase(2) + "\" " + options.search;
    options.case_sensitive = rng() % 4 == 0;
    options.diacritic_sensitive = rng() % 4 == 0;
    auto query = text::TextQuery::Make(options, **spec);
    ASSERT_TRUE(query.ok());
    std::set<int> expected;
    for (int i = 0; i < 300; ++i) {
      auto m = query->Matches(docs[static_cast<size_t>(i)], **spec);
      ASSERT_TRUE(m.ok());
      if (*m) expected.insert(i);
    }
    bson::Builder filter;
    bson_t text_op;
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "$text", &text_op);
    BSON_APPEND_UTF8(&text_op, "$search", options.search.c_str());
    BSON_APPEND_BOOL(&text_op, "$caseSensitive", options.case_sensitive);
    BSON_APPEND_BOOL(&text_op, "$diacriticSensitive", options.diacritic_sensitive);
    bson_append_document_end(filter.get(), &text_op);
    auto found = c.Find(filter.Finish())->ToVector();
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    std::set<int> actual;
    for (const Document& d : *found) {
      bson_iter_t id;
      d.Find("_id", &id);
      actual.insert(bson_iter_int32(&id));
    }
    EXPECT_EQ(actual, expected) << options.search << " case " << options.case_sensitive << " diacritics "
                                << options.diacritic_sensitive;
  }
}

// Writers insert, retitle and delete documents while readers search: every
// document a reader gets holds a query term (a document is never returned
// for an old version's terms), and afterwards the index agrees with the
// documents (validate) and with a search of every document.
TEST(TextConcurrencyTest, SearchesWhileWritersChangeTheCollection) {
  auto engine = Engine::Open({.path = "", .in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("t", "posts");
  ASSERT_TRUE(c.CreateIndexes({J(R"({"key": {"title": "text"}})")}).ok());
  std::atomic<int> errors{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 150; ++i) {
        const int id = w * 1000 + i;
        const std::string title = (i % 2 ? "apple pie " : "pear tart ") + std::to_string(i);
        if (!c.InsertOne(J(R"({"_id": )" + std::to_string(id) + R"(, "title": ")" + title + R"("})")).ok()) ++errors;
        if (i % 3 == 0 && !c.UpdateOne(J(R"({"_id": )" + std::to_string(id) + "}"),
                                       J(R"({"$set": {"title": "plum jam"}})")).ok()) {
          ++errors;
        }
        if (i % 7 == 0 && !c.DeleteOne(J(R"({"_id": )" + std::to_string(id - 1) + "}")).ok()) ++errors;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int round = 0; round < 40; ++round) {
        auto docs = c.Find(J(R"({"$text": {"$search": "apple"}})"))->ToVector();
        if (!docs.ok()) {
          ++errors;
          continue;
        }
        for (const Document& d : *docs) {
          bson_iter_t title;
          if (!d.Find("title", &title) || std::string(bson_iter_utf8(&title, nullptr)).find("apple") == std::string::npos) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  auto all = c.Find(Document())->ToVector();
  ASSERT_TRUE(all.ok());
  int apples = 0;
  for (const Document& d : *all) {
    bson_iter_t title;
    d.Find("title", &title);
    if (std::string(bson_iter_utf8(&title, nullptr)).find("apple") != std::string::npos) ++apples;
  }
  auto searched = c.CountDocuments(J(R"({"$text": {"$search": "apples"}})"));
  ASSERT_TRUE(searched.ok());
  EXPECT_EQ(*searched, apples);
  EXPECT_GT(apples, 0);
  auto valid = c.Validate();
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();
  EXPECT_TRUE(valid->valid()) << (valid->errors.empty() ? "" : valid->errors.front());
  EXPECT_EQ(valid->missing_index_entries, 0);
  EXPECT_EQ(valid->extra_index_entries, 0);
}

}  // namespace
}  // namespace docket
