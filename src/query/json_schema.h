// $jsonSchema: MongoDB's subset of JSON Schema draft 4, as a query operator
// (and so as a collection's validator). Keywords: bsonType, type (object,
// array, number, boolean, string, null), required, properties,
// patternProperties, additionalProperties, enum, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, multipleOf, minLength, maxLength,
// pattern, items, additionalItems, minItems, maxItems, uniqueItems,
// minProperties, maxProperties, dependencies, allOf, anyOf, oneOf, not;
// title and description are accepted and mean nothing. As MongoDB, a keyword
// that constrains one kind of value passes every other kind (minimum passes a
// string; properties passes a number), and the document itself is an object.
// Numbers compare as doubles.
#pragma once

#include <bson/bson.h>

#include <memory>

#include "docket/status.h"

namespace docket::query {

struct SchemaNode;

// Immutable once compiled; safe to share between threads.
class JsonSchema {
 public:
  // `schema` holds the operand of $jsonSchema. Errors, as MongoDB's:
  // TypeMismatch (14) for a keyword of the wrong type, FailedToParse (9) for
  // an unknown keyword, one MongoDB does not support ($ref, format, type
  // "integer"...) or both type and bsonType, BadValue (2) for an unknown
  // type name, an empty or repeated `required`, a negative length.
  static Result<std::shared_ptr<const JsonSchema>> Compile(const bson_iter_t& schema);
  ~JsonSchema();

  bool Matches(const uint8_t* doc, size_t len) const;
  // Why `doc` fails, in the shape of MongoDB 5.0+'s errInfo.details:
  // {operatorName: "$jsonSchema", schemaRulesNotSatisfied: [{operatorName:
  // "required", specifiedAs: {...}, missingProperties: [...]}, ...]}, into
  // `out`. REQUIRES: !Matches(doc).
  void Explain(const uint8_t* doc, size_t len, bson_t* out) const;

 private:
  explicit JsonSchema(std::unique_ptr<SchemaNode> root);
  std::unique_ptr<SchemaNode> root_;
};

}  // namespace docket::query
