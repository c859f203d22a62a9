// Aggregation expressions (MongoDB 6.0's expression language): parsed once
// from BSON into a tree, then evaluated against any number of documents.
//
//   "$a.b"            a field path of $$CURRENT (arrays map over elements)
//   "$$var.path"      a variable: ROOT, CURRENT, NOW, REMOVE, or one bound by
//                     $let, $map, $filter, $reduce or a stage's `let`
//   {$op: args}       an operator (the table in operators.cc lists them)
//   {a: e1, b: e2}    an object whose fields are expressions
//   [e1, e2]          an array of expressions
//   anything else     a literal
//
// Unknown operators fail to parse with InvalidPipelineOperator (168); other
// errors use MongoDB's Location codes, at parse time where MongoDB reports
// them then and at evaluation otherwise.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "expr/value.h"

namespace docket::expr {

inline constexpr int kRootSlot = 0;
inline constexpr int kCurrentSlot = 1;

// The values of variables during one evaluation, by the slot the parser gave
// each. Owned by one thread at a time.
class Variables {
 public:
  Variables();
  // A fresh evaluation over `doc`: ROOT and CURRENT are the document.
  // REQUIRES: `doc` outlives the evaluation (values borrow from it).
  void SetRoot(const Document& doc);
  void SetRoot(const Value& root);
  void Set(int slot, Value v);
  const Value& Get(int slot) const;
  int64_t now_millis() const { return now_millis_; }
  void SetNow(int64_t millis) { now_millis_ = millis; }
  // CURRENT alone ($redact descends into sub-documents with ROOT unchanged).
  void SetCurrent(const Value& current) { slots_[kCurrentSlot] = current; }
  // The collation of the operator being evaluated (null: binary): each
  // operator that compares sets it, from its parse Scope, just before it
  // computes, so its functions read their own.
  const bson::StringOrder* strings() const { return strings_; }
  void set_strings(const bson::StringOrder* strings) { strings_ = strings; }

 private:
  std::vector<Value> slots_;
  Value root_holder_;
  int64_t now_millis_ = 0;  // one clock reading for $$NOW, per Variables
  const bson::StringOrder* strings_ = nullptr;
};

// Parse-time variable names in scope. Slots are never reused, so a Variables
// of slot_count() slots holds every binding of everything parsed with it.
class Scope {
 public:
  Scope();
  // Binds a user variable name; returns its slot. Errors: FailedToParse for
  // a name MongoDB does not allow (Location16866-16871).
  Result<int> Define(std::string_view name);
  // Binds a name users cannot define ($redact's DESCEND, PRUNE, KEEP).
  int DefineSystem(std::string_view name);
  // Ends the innermost `count` bindings.
  void Pop(size_t count);
  std::optional<int> Lookup(std::string_view name) const;
  int slot_count() const { return next_slot_; }
  // The collation the expressions parsed here compare strings by (the
  // operation's; null: binary). Whoever owns the collation keeps it alive
  // for as long as the parsed expressions live.
  const bson::StringOrder* strings() const { return strings_; }
  void set_strings(const bson::StringOrder* strings) { strings_ = strings; }

 private:
  std::vector<std::pair<std::string, int>> names_;
  int next_slot_;
  const bson::StringOrder* strings_ = nullptr;
};

class Expression {
 public:
  virtual ~Expression() = default;
  virtual Result<Value> Evaluate(Variables& vars) const = 0;
  // Whether the result is known without a document (a literal).
  virtual bool IsConstant() const { return false; }
};

using ExprPtr = std::unique_ptr<Expression>;

// Parses any expression value (see the top of this file).
Result<ExprPtr> Parse(const bson_iter_t& spec, Scope& scope);
// Parses the fields of an object expression ({a: e1, "b": {c: e2}}).
// `spec` is the object's bytes. A field set to a missing result is left out.
Result<ExprPtr> ParseObject(std::string_view spec, Scope& scope);
// An expression that always yields `v`.
ExprPtr Constant(Value v);
// "$a.b" (without the '$') as an expression on $$CURRENT.
Result<ExprPtr> FieldPath(std::string_view dotted);

// Evaluates `e` with `doc` as $$ROOT and $$CURRENT.
Result<Value> EvaluateOn(const Expression& e, const Document& doc, Variables& vars);

// MongoDB's rules for a field path's components (not empty, no leading '$').
Status ValidateFieldPath(std::string_view dotted);

}  // namespace docket::expr
