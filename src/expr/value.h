// Values of the aggregation expression language: one BSON value, or
// "missing" (what a field path gives when it reaches nothing, and what makes
// an object expression leave a field out).
#pragma once

#include <cmath>
#include <limits>

#include <bson/bson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bson/string_order.h"
#include "docket/document.h"

namespace docket::expr {

// A Value either borrows — it points at an element inside bytes that someone
// else keeps alive for as long as the Value is used (the input document of an
// evaluation) — or shares ownership of the bytes it points into (a held
// {"": value} document, or a document it was taken from). Copying is cheap: a
// pointer and a reference count. Immutable; safe to read from any thread.
class Value {
 public:
  Value() = default;  // missing

  // Points at the element `it` is on. REQUIRES: its bytes outlive the Value
  // (use Owned() to keep it longer).
  static Value Borrow(const bson_iter_t& it);
  // Copies the element's value.
  static Value Copy(const bson_iter_t& it);
  // Takes a {"": value} document (bson::HoldValue's shape).
  static Value FromHeld(std::string held);
  // An embedded document; shares `doc`'s bytes.
  static Value FromDocument(const Document& doc);
  // An embedded document from a document's bytes (copied).
  static Value FromDocumentBytes(std::string_view bytes);
  // An array from the bytes of a BSON array document ({"0": .., "1": ..}).
  static Value FromArrayBytes(std::string_view bytes);

  static Value Null();
  static Value Undefined();
  static Value Bool(bool v);
  static Value Int32(int32_t v);
  static Value Int64(int64_t v);
  static Value Double(double v);
  static Value Decimal(const bson_decimal128_t& v);
  static Value String(std::string_view v);
  static Value Date(int64_t millis);
  static Value Oid(const bson_oid_t& v);
  static Value Timestamp(uint32_t time, uint32_t increment);
  static Value Regex(std::string_view pattern, std::string_view options);
  // The narrowest of int32 / int64 that holds `v`.
  static Value Integer(int64_t v);

  bool missing() const { return data_ == nullptr; }
  // BSON_TYPE_EOD when missing.
  bson_type_t type() const { return type_; }
  // Positions `it` on the value. REQUIRES: !missing(). Valid while the Value
  // (or, for a borrowed one, its bytes) lives.
  void Iter(bson_iter_t* it) const;

  // A Value that owns what it points into (a copy when borrowed).
  Value Owned() const;
  // An element of this array or document (from iterating Iter()'s children):
  // shares this Value's ownership.
  Value Child(const bson_iter_t& child) const;

  bool is_number() const;
  // missing, null or undefined.
  bool is_nullish() const;
  bool is_array() const { return type_ == BSON_TYPE_ARRAY; }
  bool is_document() const { return type_ == BSON_TYPE_DOCUMENT; }
  bool is_string() const { return type_ == BSON_TYPE_UTF8 || type_ == BSON_TYPE_SYMBOL; }

  // REQUIRES: is_number(). Decimal through its text (NaN, infinities kept).
  double AsDouble() const;
  // REQUIRES: is_number(); doubles and decimals truncate.
  int64_t AsInt64() const;
  // REQUIRES: is_string().
  std::string_view AsString() const;
  // The bytes of an embedded document or array. REQUIRES: one of those.
  std::string_view ContainerBytes() const;
  bool AsBool() const;           // REQUIRES: type() == BSON_TYPE_BOOL
  int64_t AsDateMillis() const;  // REQUIRES: type() == BSON_TYPE_DATE_TIME
  // REQUIRES: is_document(): the embedded document as its own Document.
  Document AsDocument() const;
  // Number of elements. REQUIRES: is_array().
  size_t ArrayLength() const;

  // MongoDB's truthiness ($cond, $and, $filter, $expr): false for missing,
  // null, undefined, false and numeric zero; true for everything else.
  bool Truthy() const;

  // Metadata of a document in a pipeline: its text score ({$meta:
  // "textScore"}), set by a first $match with $text, kept by the stages
  // that pass a document on or reshape it ($project, $addFields, $sort,
  // $unwind, $lookup, $replaceRoot...), gone after those that make new ones
  // ($group, $bucket...).
  bool has_text_score() const { return !std::isnan(text_score_); }
  double text_score() const { return text_score_; }
  void set_text_score(double score) { text_score_ = score; }
  // This value with `from`'s metadata (a stage's output keeps its input's).
  Value WithMetadataOf(const Value& from) const {
    Value out = *this;
    out.text_score_ = from.text_score_;
    return out;
  }

  // Appends the value as field `key`; nothing when missing.
  void AppendTo(bson_t* out, std::string_view key) const;
  // Relaxed Extended JSON of the value, for error messages ("missing" when missing).
  std::string ToJson() const;

 private:
  std::shared_ptr<const std::string> owner_;  // null when borrowed
  const uint8_t* data_ = nullptr;             // the document holding the element
  uint32_t len_ = 0;
  uint32_t offset_ = 0;  // of the element in data_
  uint32_t key_len_ = 0;
  bson_type_t type_ = BSON_TYPE_EOD;
  double text_score_ = std::numeric_limits<double>::quiet_NaN();  // none
};

// MongoDB's total order over values (bson::CompareValues), with missing
// below everything; strings by `strings` (a collation) when given. Returns
// <0, 0 or >0.
int Compare(const Value& a, const Value& b, const bson::StringOrder* strings = nullptr);
inline bool Equal(const Value& a, const Value& b, const bson::StringOrder* strings = nullptr) {
  return Compare(a, b, strings) == 0;
}

// MongoDB's name for the value's type, as $type gives it ("missing" too).
const char* TypeName(const Value& v);

// Iterates the elements (or fields) of an array (or document) value; stops
// when fn returns false. Each element shares the value's ownership.
template <typename Fn>
void ForEachElement(const Value& container, Fn fn) {
  bson_iter_t it, child;
  container.Iter(&it);
  if (!bson_iter_recurse(&it, &child)) return;
  while (bson_iter_next(&child)) {
    if (!fn(container.Child(child))) return;
  }
}
std::vector<Value> Elements(const Value& array);
Value MakeArray(const std::vector<Value>& items);

// Builds an array value element by element.
class ArrayBuilder {
 public:
  ArrayBuilder();
  ~ArrayBuilder();
  ArrayBuilder(const ArrayBuilder&) = delete;
  ArrayBuilder& operator=(const ArrayBuilder&) = delete;

  // A missing value is appended as null (arrays have no holes).
  void Append(const Value& v);
  void Append(const bson_iter_t& it);
  size_t size() const { return count_; }
  // Current encoded size, for the 16 MiB limit.
  size_t bytes() const;
  Value Finish();

 private:
  bson_t outer_;
  bson_t array_;
  size_t count_ = 0;
  bool finished_ = false;
};

// Builds a document value field by field, inside its {"": ...} holder, so
// that Finish is one copy of the bytes.
class DocumentBuilder {
 public:
  DocumentBuilder();
  ~DocumentBuilder();
  DocumentBuilder(const DocumentBuilder&) = delete;
  DocumentBuilder& operator=(const DocumentBuilder&) = delete;

  // A missing value is left out.
  void Append(std::string_view key, const Value& v);
  // The document being built, for libbson's appenders. REQUIRES: not finished.
  bson_t* get() { return &doc_; }
  size_t bytes() const { return doc_.len; }
  // REQUIRES: called once.
  Value Finish();

 private:
  bson_t outer_;  // {"": <doc_>}
  bson_t doc_;
  bool finished_ = false;
};

}  // namespace docket::expr
