#include "index/implication.h"

#include <string>
#include <vector>

#include "bson/value.h"

namespace docket::index {
namespace {

struct Conjunct {
  std::string path;
  std::string op;       // $eq $gt $gte $lt $lte $exists $type
  std::string operand;  // bson::HoldValue
};

bool KnownOperator(std::string_view name) {
  return name == "$eq" || name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte" || name == "$exists" ||
         name == "$type";
}

// Appends the conjuncts of a filter's top level and its $and. Returns false
// when some part is not one of them (an $or, an unknown operator, ...): what
// was appended is still implied by the document, but is not all it says.
bool Conjuncts(const uint8_t* data, size_t len, std::vector<Conjunct>* out, int depth) {
  bson_iter_t it;
  if (depth > 20 || !bson_iter_init_from_data(&it, data, len)) return false;
  bool complete = true;
  while (bson_iter_next(&it)) {
    std::string key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) {
          complete = false;
          continue;
        }
        std::string_view sub = bson::SubDocumentBytes(element);
        if (!Conjuncts(reinterpret_cast<const uint8_t*>(sub.data()), sub.size(), out, depth + 1)) complete = false;
      }
      continue;
    }
    if (key.empty() || key[0] == '$') {
      complete = false;
      continue;
    }
    if (!bson::IsOperatorDocument(it)) {
      out->push_back({key, "$eq", bson::HoldValue(it)});
      continue;
    }
    bson_iter_t op;
    bson_iter_recurse(&it, &op);
    while (bson_iter_next(&op)) {
      std::string_view name = bson_iter_key(&op);
      if (KnownOperator(name)) out->push_back({key, std::string(name), bson::HoldValue(op)});
      else complete = false;
    }
  }
  return complete;
}

// An operand that compares within its type bracket only and matches no
// missing field: the ones ordering arguments apply to.
bool Ordinary(const bson_iter_t& v) {
  const bson_type_t t = bson_iter_type(&v);
  return !bson::IsNullish(t) && t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY && t != BSON_TYPE_ARRAY &&
         t != BSON_TYPE_REGEX && !bson::IsNaN(v);
}

bool IsRangeOrEquality(const std::string& op) {
  return op == "$eq" || op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte";
}

// Whether every value satisfying `e` (the filter's conjunct) satisfies `p`
// (the partial expression's), both on the same path.
bool Follows(const Conjunct& p, const Conjunct& e) {
  bson_iter_t pv, ev;
  bson::IterHeldValue(p.operand, &pv);
  bson::IterHeldValue(e.operand, &ev);
  const bool identical = p.op == e.op && bson_iter_type(&pv) == bson_iter_type(&ev) && bson::CompareValues(pv, ev) == 0;
  if (p.op == "$exists") {
    if (!bson_iter_as_bool(&pv)) return identical;
    if (e.op == "$exists") return bson_iter_as_bool(&ev);
    if (e.op == "$type") return true;
    return IsRangeOrEquality(e.op) && Ordinary(ev);
  }
  if (p.op == "$type" || !Ordinary(pv) || !Ordinary(ev)) return identical;
  if (!IsRangeOrEquality(e.op) || bson::CanonicalType(bson_iter_type(&pv)) != bson::CanonicalType(bson_iter_type(&ev))) {
    return false;
  }
  const int c = bson::CompareValues(ev, pv);  // the filter's operand against the partial's
  const bool eq = e.op == "$eq";
  if (p.op == "$eq") return eq && c == 0;
  if (p.op == "$gt") return ((eq || e.op == "$gte") && c > 0) || (e.op == "$gt" && c >= 0);
  if (p.op == "$gte") return (eq || e.op == "$gt" || e.op == "$gte") && c >= 0;
  if (p.op == "$lt") return ((eq || e.op == "$lte") && c < 0) || (e.op == "$lt" && c <= 0);
  if (p.op == "$lte") return (eq || e.op == "$lt" || e.op == "$lte") && c <= 0;
  return false;
}

}  // namespace

bool FilterImplies(const Document& filter, const Document& partial) {
  std::vector<Conjunct> required, known;
  if (!Conjuncts(partial.data(), partial.size(), &required, 0)) return false;
  Conjuncts(filter.data(), filter.size(), &known, 0);  // what it says beyond these is not used
  for (const Conjunct& p : required) {
    bool follows = false;
    for (const Conjunct& e : known) {
      if (e.path == p.path && Follows(p, e)) {
        follows = true;
        break;
      }
    }
    if (!follows) return false;
  }
  return true;
}

}  // namespace docket::index
