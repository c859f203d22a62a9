// Data-driven MongoDB semantics: tests/cases/*.test. Format, one JSON value
// per line (blank lines separate cases, '#' starts a comment):
//
//   docs: [{"_id": 1, "a": 5}]         the collection every following case starts from
//   indexes: [{"key": {"a": 1}}]       from here on in the file, each case runs twice: without
//                                      secondary indexes and with these (same expectations)
//   find: {"a": {"$gt": 1}}            an operation (see RunOperation for the list)
//   sort: {"a": -1}                    optional modifiers for find (sort, projection, skip, limit, let)
//   expect: [{"_id": 1, "a": 5}]       the result (for writes: the whole collection after, in _id order)
//   error: 2                           or: the operation fails with this code (collection unchanged)
//   then: "other"                      optional: `expect` describes collection cases.other after the
//                                      operation ($out, $merge) instead of its result
//   collation: {"locale": "en"}        optional: the operation's collation (any operation)
//   create: {"collation": {...}}       the collection's create options (a default collation) for
//                                      every following case of the file
//   required_indexes: [{"key": ...}]   indexes every following case runs with, in both runs (a
//                                      text index: $text cannot run without one)
//
// Aggregation: `aggregate: [stages]` runs a pipeline on the collection (results in the pipeline's
// order); `expr: <expression>` is shorthand for [{$project: {_id: 0, r: <expression>}}], one result
// per document. An update's "u" (or findAndModify's "update") given as an array is a pipeline.
//
// Documents compare with MongoDB's equality (numbers across types), field order included.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bson/value.h"
#include "docket/engine.h"

namespace docket {
namespace {

struct Case {
  std::string file;
  int line = 0;
  std::string docs;
  std::string indexes;  // JSON array of index specs, or empty
  std::string create;   // the collection's create options (JSON), or empty
  std::string required_indexes;  // JSON array of index specs made in every run, or empty
  std::string op;
  std::string argument;
  std::map<std::string, std::string> modifiers;
  std::optional<std::string> expect;
  std::optional<int> error;
};

std::vector<Case> ParseFile(const std::filesystem::path& path) {
  std::vector<Case> cases;
  std::ifstream in(path);
  std::string line, docs = "[]", indexes, create, required_indexes;
  Case current;
  int number = 0;
  auto flush = [&] {
    if (!current.op.empty()) cases.push_back(current);
    current = Case();
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) { flush(); continue; }
    if (line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      ADD_FAILURE() << path << ":" << number << ": expected 'key: value'";
      continue;
    }
    std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (key == "docs") { docs = value; continue; }
    if (key == "indexes") { indexes = value; continue; }
    if (key == "create") { create = value; continue; }
    if (key == "required_indexes") { required_indexes = value; continue; }
    if (key == "expect") { current.expect = value; continue; }
    if (key == "error") { current.error = std::stoi(value); continue; }
    if (key == "sort" || key == "projection" || key == "skip" || key == "limit" || key == "let" || key == "then" ||
        key == "collation") {
      current.modifiers[key] = value;
      continue;
    }
    current.file = path.filename().string();
    current.line = number;
    current.docs = docs;
    current.indexes = indexes;
    current.create = create;
    current.required_indexes = required_indexes;
    current.op = key;
    current.argument = value;
  }
  flush();
  return cases;
}

// libbson's JSON reader takes "$regex", "$options" and "$type" for legacy
// Extended JSON, but in filters they are query operators. The case files write
// them plainly; they are parsed under a stand-in name and renamed back.
constexpr std::string_view kOperatorStandIn = "__docket_op__";
const char* const kShadowedOperators[] = {"$regex", "$options", "$type"};

void RenameStandIns(const bson_t* in, bson_t* out) {
  bson_iter_t it;
  bson_iter_init(&it, in);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    if (key.rfind(kOperatorStandIn, 0) == 0) key = "$" + key.substr(kOperatorStandIn.size());
    if (BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)) {
      uint32_t len;
      const uint8_t* data;
      if (BSON_ITER_HOLDS_DOCUMENT(&it)) bson_iter_document(&it, &len, &data);
      else bson_iter_array(&it, &len, &data);
      bson_t sub_in, sub_out;
      bson_init_static(&sub_in, data, len);
      bson_init(&sub_out);
      RenameStandIns(&sub_in, &sub_out);
      if (BSON_ITER_HOLDS_DOCUMENT(&it)) bson_append_document(out, key.c_str(), -1, &sub_out);
      else bson_append_array(out, key.c_str(), -1, &sub_out);
      bson_destroy(&sub_out);
    } else {
      bson_append_iter(out, key.c_str(), -1, &it);
    }
  }
}

Document Json(const std::string& json) {
  std::string text = json;
  for (std::string_view op : kShadowedOperators) {
    std::string quoted = "\"" + std::string(op) + "\"";
    std::string stand_in = "\"" + std::string(kOperatorStandIn) + std::string(op.substr(1)) + "\"";
    for (size_t at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at)) {
      text.replace(at, quoted.size(), stand_in);
    }
  }
  auto doc = Document::FromJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString() << " in " << json;
  if (!doc.ok()) return Document();
  bson_t in, out;
  bson_init_static(&in, doc->data(), doc->size());
  bson_init(&out);
  RenameStandIns(&in, &out);
  Document renamed = *Document::FromBson(&out);
  bson_destroy(&out);
  return renamed;
}

// Wraps a JSON array so libbson can parse it: {"v": [...]} -> the documents.
std::vector<Document> JsonArray(const std::string& json) {
  Document wrapper = Json("{\"v\": " + json + "}");
  std::vector<Document> out;
  bson_iter_t it, element;
  if (!wrapper.Find("v", &it) || !BSON_ITER_HOLDS_ARRAY(&it)) return out;
  bson_iter_recurse(&it, &element);
  while (bson_iter_next(&element)) {
    bson_t holder = BSON_INITIALIZER;
    if (BSON_ITER_HOLDS_DOCUMENT(&element)) {
      uint32_t len;
      const uint8_t* data;
      bson_iter_document(&element, &len, &data);
      out.push_back(*Document::FromBytes(data, len));
    } else {
      bson_append_iter(&holder, "value", 5, &element);  // scalars (count, distinct) as {value: x}
      out.push_back(*Document::FromBson(&holder));
    }
    bson_destroy(&holder);
  }
  return out;
}

bool SameTypes(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) {
  bson_iter_t x, y;
  if (!bson_iter_init_from_data(&x, a, a_len) || !bson_iter_init_from_data(&y, b, b_len)) return false;
  while (true) {
    bool has_x = bson_iter_next(&x), has_y = bson_iter_next(&y);
    if (has_x != has_y) return false;
    if (!has_x) return true;
    if (bson_iter_type(&x) != bson_iter_type(&y)) return false;
    if (BSON_ITER_HOLDS_DOCUMENT(&x) || BSON_ITER_HOLDS_ARRAY(&x)) {
      std::string_view sx = bson::SubDocumentBytes(x), sy = bson::SubDocumentBytes(y);
      if (!SameTypes(reinterpret_cast<const uint8_t*>(sx.data()), sx.size(), reinterpret_cast<const uint8_t*>(sy.data()),
                     sy.size())) {
        return false;
      }
    }
  }
}
bool SameTypes(const Document& a, const Document& b) { return SameTypes(a.data(), a.size(), b.data(), b.size()); }

// Equal values of the same BSON types, in the same order: a result of 3.0
// where MongoDB gives 3 (or NumberLong(3)) is a difference.
bool SameDocument(const Document& a, const Document& b) {
  return bson::CompareDocumentBytes(a.data(), a.size(), b.data(), b.size(), true) == 0 && SameTypes(a, b);
}

std::string Render(const std::vector<Document>& docs) {
  std::string out = "[";
  for (const Document& d : docs) out += (out.size() > 1 ? ", " : "") + d.ToJson();
  return out + "]";
}

Document ValueDoc(int64_t n) {
  bson_t b = BSON_INITIALIZER;
  if (n >= INT32_MIN && n <= INT32_MAX) BSON_APPEND_INT32(&b, "value", static_cast<int32_t>(n));  // as count's reply
  else BSON_APPEND_INT64(&b, "value", n);
  Document d = *Document::FromBson(&b);
  bson_destroy(&b);
  return d;
}

bool GetBool(const Document& d, const char* key) {
  bson_iter_t it;
  return d.Find(key, &it) && bson_iter_as_bool(&it);
}

Document GetDoc(const Document& d, const char* key) {
  bson_iter_t it;
  if (!d.Find(key, &it) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return Document();
  uint32_t len;
  const uint8_t* data;
  bson_iter_document(&it, &len, &data);
  return *Document::FromBytes(data, len);
}

std::vector<Document> GetDocList(const Document& d, const char* key) {
  std::vector<Document> out;
  bson_iter_t it, element;
  if (!d.Find(key, &it) || !BSON_ITER_HOLDS_ARRAY(&it)) return out;
  bson_iter_recurse(&it, &element);
  while (bson_iter_next(&element)) {
    uint32_t len;
    const uint8_t* data;
    bson_iter_document(&element, &len, &data);
    out.push_back(*Document::FromBytes(data, len));
  }
  return out;
}

// The stages of a JSON array of documents, or a pipeline field of `spec`.
bool IsArrayField(const Document& d, const char* key) {
  bson_iter_t it;
  return d.Find(key, &it) && BSON_ITER_HOLDS_ARRAY(&it);
}

Result<std::vector<Document>> RunPipeline(Collection& coll, const std::vector<Document>& pipeline,
                                          const Document& collation) {
  AggregateOptions options;
  options.collation = collation;
  options.batch_size = 2;  // exercise batching
  auto cursor = coll.Aggregate(pipeline, options);
  if (!cursor.ok()) return cursor.status();
  return cursor->ToVector();
}

// Runs one operation; on success fills `actual` with what `expect` describes.
Status RunOperation(Engine& engine, Collection& coll, const Case& c, std::vector<Document>* actual) {
  auto all = [&]() -> Status {
    auto cursor = coll.Find(Document());
    if (!cursor.ok()) return cursor.status();
    auto docs = cursor->ToVector();
    if (!docs.ok()) return docs.status();
    *actual = *docs;
    return Status::OK();
  };
  const Document collation = c.modifiers.count("collation") ? Json(c.modifiers.at("collation")) : Document();
  if (c.op == "find") {
    FindOptions options;
    options.collation = collation;
    if (c.modifiers.count("sort")) options.sort = Json(c.modifiers.at("sort"));
    if (c.modifiers.count("projection")) options.projection = Json(c.modifiers.at("projection"));
    if (c.modifiers.count("skip")) options.skip = std::stoll(c.modifiers.at("skip"));
    if (c.modifiers.count("limit")) options.limit = std::stoll(c.modifiers.at("limit"));
    if (c.modifiers.count("let")) options.let = Json(c.modifiers.at("let"));
    options.batch_size = 2;  // exercise batching
    auto cursor = coll.Find(Json(c.argument), options);
    if (!cursor.ok()) return cursor.status();
    auto docs = cursor->ToVector();
    if (!docs.ok()) return docs.status();
    *actual = *docs;
    return Status::OK();
  }
  if (c.op == "aggregate" || c.op == "expr") {
    std::vector<Document> pipeline =
        c.op == "aggregate" ? JsonArray(c.argument)
                            : std::vector<Document>{Json("{\"$project\": {\"_id\": 0, \"r\": " + c.argument + "}}")};
    auto docs = RunPipeline(coll, pipeline, collation);
    if (!docs.ok()) return docs.status();
    *actual = *docs;
    return Status::OK();
  }
  if (c.op == "count") {
    CountOptions options;
    options.collation = collation;
    auto n = coll.CountDocuments(Json(c.argument), options);
    if (!n.ok()) return n.status();
    *actual = {ValueDoc(*n)};
    return Status::OK();
  }
  if (c.op == "distinct") {
    Document spec = Json(c.argument);
    bson_iter_t key;
    spec.Find("key", &key);
    auto values = coll.Distinct(bson_iter_utf8(&key, nullptr), GetDoc(spec, "filter"), ReadOptions(), collation);
    if (!values.ok()) return values.status();
    bson_iter_t it, element;
    values->Find("values", &it);
    bson_iter_recurse(&it, &element);
    while (bson_iter_next(&element)) {
      bson_t holder = BSON_INITIALIZER;
      bson_append_iter(&holder, "value", 5, &element);
      actual->push_back(*Document::FromBson(&holder));
      bson_destroy(&holder);
    }
    return Status::OK();
  }
  if (c.op == "insert") {
    InsertManyOptions options;
    auto r = coll.InsertMany(JsonArray(c.argument), options);
    if (!r.ok()) return r.status();
    if (!r->write_errors.empty()) return r->write_errors.front().status;
    return all();
  }
  if (c.op == "update") {  // {"q": ..., "u": ..., "upsert": bool, "multi": bool, "arrayFilters": [...], "let": {...}}
    Document spec = Json(c.argument);
    UpdateOptions options;
    options.collation = collation;
    options.upsert = GetBool(spec, "upsert");
    options.let = GetDoc(spec, "let");
    options.array_filters = GetDocList(spec, "arrayFilters");
    Result<UpdateResult> r = UpdateResult{};
    if (IsArrayField(spec, "u")) {
      UpdatePipeline pipeline{GetDocList(spec, "u"), GetDoc(spec, "let")};
      r = GetBool(spec, "multi") ? coll.UpdateMany(GetDoc(spec, "q"), pipeline, options)
                                 : coll.UpdateOne(GetDoc(spec, "q"), pipeline, options);
    } else {
      r = GetBool(spec, "multi") ? coll.UpdateMany(GetDoc(spec, "q"), GetDoc(spec, "u"), options)
                                 : coll.UpdateOne(GetDoc(spec, "q"), GetDoc(spec, "u"), options);
    }
    if (!r.ok()) return r.status();
    return all();
  }
  if (c.op == "replace") {
    Document spec = Json(c.argument);
    UpdateOptions options;
    options.collation = collation;
    options.upsert = GetBool(spec, "upsert");
    auto r = coll.ReplaceOne(GetDoc(spec, "q"), GetDoc(spec, "u"), options);
    if (!r.ok()) return r.status();
    return all();
  }
  if (c.op == "delete") {  // {"q": ..., "multi": bool, "let": {...}}
    Document spec = Json(c.argument);
    DeleteOptions options;
    options.collation = collation;
    options.let = GetDoc(spec, "let");
    auto r = GetBool(spec, "multi") ? coll.DeleteMany(GetDoc(spec, "q"), options)
                                    : coll.DeleteOne(GetDoc(spec, "q"), options);
    if (!r.ok()) return r.status();
    return all();
  }
  if (c.op == "findAndModify") {  // {"query", "update", "remove", "new", "upsert", "sort", "fields", "let"}
    Document spec = Json(c.argument);
    FindAndModifyOptions options;
    options.collation = collation;
    options.let = GetDoc(spec, "let");
    options.sort = GetDoc(spec, "sort");
    options.projection = GetDoc(spec, "fields");
    options.upsert = GetBool(spec, "upsert");
    options.return_document = GetBool(spec, "new") ? ReturnDocument::kAfter : ReturnDocument::kBefore;
    options.array_filters = GetDocList(spec, "arrayFilters");
    Result<std::optional<Document>> r = std::optional<Document>();
    if (GetBool(spec, "remove")) {
      r = coll.FindOneAndDelete(GetDoc(spec, "query"), options);
    } else if (IsArrayField(spec, "update")) {
      r = coll.FindOneAndUpdate(GetDoc(spec, "query"), UpdatePipeline{GetDocList(spec, "update"), Document()}, options);
    } else {
      Document update = GetDoc(spec, "update");
      bson_iter_t first;
      update.Iterate(&first);
      bool operators = bson_iter_next(&first) && bson_iter_key(&first)[0] == '$';
      r = operators ? coll.FindOneAndUpdate(GetDoc(spec, "query"), update, options)
                    : coll.FindOneAndReplace(GetDoc(spec, "query"), update, options);
    }
    if (!r.ok()) return r.status();
    if (*r) actual->push_back(**r);
    return Status::OK();
  }
  (void)engine;
  return Status(ErrorCode::kCommandNotFound, "unknown operation in test file: " + c.op);
}

void RunCaseOnce(Engine& engine, const Case& c, bool with_indexes) {
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + c.op + ": " + c.argument +
               (with_indexes ? " [with indexes " + c.indexes + "]" : ""));
  ASSERT_TRUE(engine.DropDatabase("cases").ok());
  Collection coll = engine.collection("cases", "c");
  if (!c.create.empty()) {
    CollectionOptions options;
    Document create = Json(c.create);
    options.collation = GetDoc(create, "collation");
    Status made = engine.CreateCollection("cases", "c", options);
    ASSERT_TRUE(made.ok()) << made.ToString();
  }
  std::vector<Document> initial = JsonArray(c.docs);
  if (!initial.empty()) {
    auto inserted = coll.InsertMany(initial);
    ASSERT_TRUE(inserted.ok() && inserted->write_errors.empty()) << "could not load docs";
  }
  if (!c.required_indexes.empty()) {
    auto created = coll.CreateIndexes(JsonArray(c.required_indexes));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  if (with_indexes) {
    auto created = coll.CreateIndexes(JsonArray(c.indexes));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  std::vector<Document> actual;
  Status s = RunOperation(engine, coll, c, &actual);
  if (s.ok() && c.modifiers.count("then")) {
    std::string other = c.modifiers.at("then");
    other.erase(std::remove(other.begin(), other.end(), '"'), other.end());
    other.erase(std::remove(other.begin(), other.end(), ' '), other.end());
    auto docs = engine.collection("cases", other).Find(Document())->ToVector();
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    actual = *docs;
  }
  if (c.error) {
    EXPECT_EQ(static_cast<int>(s.code()), *c.error) << "status: " << s.ToString() << " result: " << Render(actual);
    // Nothing written: the collection is as it was.
    auto after = coll.Find(Document())->ToVector();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(Render(*after), Render(initial)) << "a failed operation changed the collection";
    return;
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(c.expect.has_value()) << "case has neither expect nor error";
  std::vector<Document> expected = JsonArray(*c.expect);
  if (c.op == "find" && !c.modifiers.count("sort")) {
    // Without a sort MongoDB promises no order (an index scan returns index
    // order): compare as sets, in _id order.
    auto by_id = [](const Document& a, const Document& b) {
      bson_iter_t x, y;
      bool has_x = a.Find("_id", &x), has_y = b.Find("_id", &y);
      if (!has_x || !has_y) return has_x < has_y;
      return bson::CompareValues(x, y) < 0;
    };
    std::stable_sort(expected.begin(), expected.end(), by_id);
    std::stable_sort(actual.begin(), actual.end(), by_id);
  }
  bool same = expected.size() == actual.size();
  for (size_t i = 0; same && i < expected.size(); ++i) same = SameDocument(expected[i], actual[i]);
  EXPECT_TRUE(same) << "expected " << Render(expected) << "\n  actual " << Render(actual);
}

// Returns how many runs the case made.
int RunCase(Engine& engine, const Case& c) {
  RunCaseOnce(engine, c, false);
  if (c.indexes.empty()) return 1;
  RunCaseOnce(engine, c, true);
  return 2;
}

TEST(SemanticsTest, AllCaseFiles) {
  auto engine = Engine::Open({.path = "", .in_memory = true});
  ASSERT_TRUE(engine.ok());
  int total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DOCKET_TEST_CASES_DIR)) {
    if (entry.path().extension() != ".test") continue;
    for (const Case& c : ParseFile(entry.path())) {
      total += RunCase(**engine, c);
    }
  }
  EXPECT_GT(total, 100) << "the case files should hold well over a hundred cases";
  std::cout << "[ semantics ] ran " << total << " data-driven case runs\n";
}

}  // namespace
}  // namespace docket
