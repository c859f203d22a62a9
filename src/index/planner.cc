#include "index/planner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/hash_value.h"
#include "bson/key_encoding.h"
#include "bson/value.h"
#include "index/implication.h"

namespace docket::index {
namespace {

constexpr size_t kMaxPoints = 4096;  // beyond this, fewer fields bound the scan

// An operand of the filter as the planner uses it.
struct Operand {
  std::string key;   // its key encoding (bson/key_encoding.h), ascending; key[0] is its type bracket
  std::string text;  // as JSON, for explain's bounds (only when describing)
  std::string held;  // the value itself ({"": v}), which a hashed field hashes
};

struct Bound {
  Operand value;
  bool inclusive = false;
};

// What the filter says about one path, as far as an index can use it.
struct Conditions {
  std::vector<Operand> points;  // $eq / $in, ascending by key and distinct; empty: none
  bool matches_nothing = false;  // {$in: []}: no value at all (then `points` is empty)
  std::optional<Bound> lower, upper;
};

Operand MakeOperand(const bson_iter_t& it, bool describe) {
  Operand out;
  bson::AppendKeyValue(&out.key, it);
  if (describe) out.text = bson::ValueToJson(it);
  out.held = bson::HoldValue(it);
  return out;
}

// Operands the planner turns into bounds. Nullish ones would have to cover
// missing fields; MinKey and MaxKey compare across every type bracket in
// MongoDB's matcher. Neither gets bounds, which also keeps every bound clear
// of null and missing values (what a sparse index relies on).
bool UsableOperand(const bson_iter_t& it) {
  bson_type_t t = bson_iter_type(&it);
  return t != BSON_TYPE_ARRAY && t != BSON_TYPE_REGEX && t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY &&
         !bson::IsNullish(t);
}

// Operands whose index keys are equal exactly when the filter's equality
// calls them equal: one type per bracket apart from the binary numbers
// (whose encoding is exact), no NaN, no decimal128.
bool ExactOperand(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_UTF8:
    case BSON_TYPE_BOOL:
    case BSON_TYPE_DATE_TIME:
    case BSON_TYPE_OID:
      return true;
    case BSON_TYPE_DOUBLE:
      return !std::isnan(bson_iter_double(&it));
    default:
      return false;
  }
}

// The fields of a filter made of nothing but {f: v}, {f: {$eq: v}} and
// {f: {$in: [v, ...]}} (each field once, every v an ExactOperand; $comment
// allowed), or nullopt for any other filter: what an exact plan must bind.
std::optional<std::vector<std::string>> PointOnlyFields(const Document& filter) {
  std::vector<std::string> fields;
  bson_iter_t it;
  filter.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$comment") continue;
    if (key.empty() || key[0] == '$') return std::nullopt;
    if (std::find(fields.begin(), fields.end(), key) != fields.end()) return std::nullopt;
    if (bson::IsOperatorDocument(it)) {
      bson_iter_t op;
      bson_iter_recurse(&it, &op);
      bson_iter_next(&op);
      std::string_view name = bson_iter_key(&op);
      if (name == "$eq") {
        if (!ExactOperand(op)) return std::nullopt;
      } else if (name == "$in" && bson_iter_type(&op) == BSON_TYPE_ARRAY) {
        bson_iter_t element;
        bson_iter_recurse(&op, &element);
        size_t count = 0;
        while (bson_iter_next(&element)) {
          if (!ExactOperand(element)) return std::nullopt;
          ++count;
        }
        if (count == 0) return std::nullopt;
      } else {
        return std::nullopt;
      }
      if (bson_iter_next(&op)) return std::nullopt;  // a second operator
    } else if (!ExactOperand(it)) {
      return std::nullopt;
    }
    fields.push_back(std::move(key));
  }
  return fields;
}

bool HasArrayIndexComponent(const std::vector<IndexField>& fields) {
  size_t ignored = 0;
  for (const IndexField& f : fields) {
    for (const std::string& component : f.path) {
      if (bson::ParseArrayIndex(component, &ignored)) return true;
    }
  }
  return false;
}

void Collect(const uint8_t* data, size_t len, bool describe, std::map<std::string, Conditions>* out, int depth) {
  bson_iter_t it;
  if (depth > 20 || !bson_iter_init_from_data(&it, data, len)) return;
  while (bson_iter_next(&it)) {
    std::string key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$and" && bson_iter_type(&it) == BSON_TYPE_ARRAY) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) continue;
        std::string_view sub = bson::SubDocumentBytes(element);
        Collect(reinterpret_cast<const uint8_t*>(sub.data()), sub.size(), describe, out, depth + 1);
      }
      continue;
    }
    if (key.empty() || key[0] == '$') continue;
    Conditions& c = (*out)[key];
    if (!bson::IsOperatorDocument(it)) {
      if (UsableOperand(it)) c.points = {MakeOperand(it, describe)};
      continue;
    }
    bson_iter_t op;
    bson_iter_recurse(&it, &op);
    while (bson_iter_next(&op)) {
      std::string_view name = bson_iter_key(&op);
      if (name == "$eq" && UsableOperand(op)) {
        c.points = {MakeOperand(op, describe)};
      } else if (name == "$in" && bson_iter_type(&op) == BSON_TYPE_ARRAY && c.points.empty()) {
        std::vector<Operand> points;
        bson_iter_t element;
        bson_iter_recurse(&op, &element);
        bool usable = true;
        while (usable && bson_iter_next(&element)) {
          if (!UsableOperand(element) || bson::IsOperatorDocument(element)) usable = false;
          else points.push_back(MakeOperand(element, describe));
        }
        // In key order, each once: the ranges then come out in order.
        std::sort(points.begin(), points.end(), [](const Operand& x, const Operand& y) { return x.key < y.key; });
        points.erase(std::unique(points.begin(), points.end(),
                                 [](const Operand& x, const Operand& y) { return x.key == y.key; }),
                     points.end());
        if (usable && points.empty()) c.matches_nothing = true;
        if (usable && !points.empty()) c.points = std::move(points);
      } else if ((name == "$gt" || name == "$gte") && UsableOperand(op)) {
        c.lower = Bound{MakeOperand(op, describe), name == "$gte"};
      } else if ((name == "$lt" || name == "$lte") && UsableOperand(op)) {
        c.upper = Bound{MakeOperand(op, describe), name == "$lte"};
      }
    }
  }
}

// The operand's key in a field of the given direction.
std::string Encode(const Operand& operand, bool descending) {
  std::string out = operand.key;
  if (descending) {
    for (char& c : out) c = static_cast<char>(~static_cast<unsigned char>(c));
  }
  return out;
}

int Bracket(const Operand& operand) { return static_cast<unsigned char>(operand.key[0]); }

// The smallest string greater than every string starting with `s`.
std::string Successor(std::string s) {
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
  if (s.empty()) return std::string(8, '\xFF');
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

const std::string& ValueText(const Operand& operand) { return operand.text; }

// The range of keys for a bounded field after `prefix`, in the field's
// encoded order. A multikey index keeps one side only: an array may satisfy
// $gt and $lt through different elements, so the two bounds do not
// intersect. Returns false when the range is empty.
bool FieldRange(const std::string& prefix, const Conditions& c, bool descending, bool multikey, KeyRange* out,
                std::string* text /* null: no explain text */) {
  std::optional<Bound> lower = c.lower, upper = c.upper;
  if (lower && upper && multikey) upper.reset();
  int bracket = Bracket(lower ? lower->value : upper->value);
  if (lower && upper && Bracket(upper->value) != bracket) return false;  // no scalar is in both brackets
  auto enc = [&](const Bound& b) { return prefix + Encode(b.value, descending); };
  std::string bracket_start = prefix + std::string(1, static_cast<char>(descending ? 0xFF - bracket : bracket));
  std::string bracket_end = prefix + std::string(1, static_cast<char>(descending ? 0xFF - bracket + 1 : bracket + 1));
  // In a descending field the values' lower bound is the keys' upper bound.
  const std::optional<Bound>& key_low = descending ? upper : lower;
  const std::optional<Bound>& key_high = descending ? lower : upper;
  out->start = key_low ? (key_low->inclusive ? enc(*key_low) : Successor(enc(*key_low))) : bracket_start;
  out->end = key_high ? (key_high->inclusive ? Successor(enc(*key_high)) : enc(*key_high)) : bracket_end;
  if (text != nullptr) *text = (lower ? std::string(lower->inclusive ? "[" : "(") + ValueText(lower->value) : std::string("[-inf")) +
          ", " + (upper ? ValueText(upper->value) + (upper->inclusive ? "]" : ")") : std::string("+inf]"));
  return out->start < out->end;
}

struct Candidate {
  Plan plan;
  int score = 0;
  bool bounded = false;  // some field has an equality or a range (none of which meets null or missing)
};

// `exact_fields`: PointOnlyFields of the filter.
Candidate Evaluate(const std::shared_ptr<const Index>& index, const std::map<std::string, Conditions>& conditions,
                   const std::optional<std::vector<std::string>>& exact_fields,
                   const std::vector<std::pair<std::string, bool>>& sort, bool describe) {
  Candidate out;
  out.plan.index = index;
  const auto& fields = index->fields();
  std::vector<std::string> prefixes = {std::string()};
  std::vector<std::vector<std::string>> bound_text(fields.size());
  size_t fixed = 0;          // leading fields bound to one value each
  bool fixed_ended = false;
  size_t eq_fields = 0;  // leading fields bound to values (each of them a field of the filter)
  bool ranged = false;
  std::vector<KeyRange> ranges;
  size_t i = 0;
  for (; i < fields.size(); ++i) {
    auto found = conditions.find(fields[i].dotted);
    if (found == conditions.end()) break;
    const Conditions& c = found->second;
    if (fields[i].hashed) {
      // Equality only: each value's key is its hash.
      if (c.points.empty() || prefixes.size() * c.points.size() > kMaxPoints) break;
      std::vector<std::pair<std::string, std::string>> hashed;  // (key, text)
      for (const Operand& v : c.points) {
        bson_iter_t it;
        bson::IterHeldValue(v.held, &it);
        const int64_t h = bson::HashValue(it);
        hashed.emplace_back(bson::HashKey(h), std::to_string(h));
      }
      std::sort(hashed.begin(), hashed.end());
      hashed.erase(std::unique(hashed.begin(), hashed.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   hashed.end());
      std::vector<std::string> next;
      for (const std::string& p : prefixes) {
        for (const auto& h : hashed) next.push_back(p + h.first);
      }
      prefixes.swap(next);
      if (describe) {
        for (const auto& h : hashed) bound_text[i].push_back("[" + h.second + ", " + h.second + "]");
      }
      ++eq_fields;
      if (hashed.size() == 1 && !fixed_ended) ++fixed;
      else fixed_ended = true;
      continue;
    }
    if (c.matches_nothing) {  // no key can match: the plan reads nothing
      prefixes.clear();
      if (describe) bound_text[i].push_back("");
      ++eq_fields;
      fixed_ended = true;
      continue;
    }
    if (!c.points.empty() && prefixes.size() * c.points.size() <= kMaxPoints) {
      std::vector<std::string> next;
      // Ascending keys in either direction (a descending field inverts them):
      // sorted prefixes stay sorted, as the encodings are prefix-free.
      std::vector<const Operand*> in_order;
      for (const Operand& v : c.points) in_order.push_back(&v);
      if (fields[i].descending) std::reverse(in_order.begin(), in_order.end());
      for (const std::string& p : prefixes) {
        for (const Operand* v : in_order) next.push_back(p + Encode(*v, fields[i].descending));
      }
      prefixes.swap(next);
      if (describe) {
        for (const Operand* v : in_order) bound_text[i].push_back("[" + ValueText(*v) + ", " + ValueText(*v) + "]");
      }
      ++eq_fields;
      if (c.points.size() == 1 && !fixed_ended) ++fixed;
      else fixed_ended = true;
      continue;
    }
    if (c.lower || c.upper) {
      std::string text;
      for (const std::string& p : prefixes) {
        KeyRange r;
        if (FieldRange(p, c, fields[i].descending, index->multikey(), &r, describe ? &text : nullptr)) ranges.push_back(r);
      }
      if (describe) bound_text[i].push_back(text);
      ranged = true;
      ++i;
    }
    break;
  }
  if (!ranged) {
    for (const std::string& p : prefixes) ranges.push_back({p, p.empty() ? std::string(8, '\xFF') : Successor(p)});
    if (index->unique() && eq_fields == fields.size()) {
      out.plan.point_keys = std::move(prefixes);  // sorted already (see above); checked, as the scan relies on it
      if (!std::is_sorted(out.plan.point_keys.begin(), out.plan.point_keys.end())) {
        std::sort(out.plan.point_keys.begin(), out.plan.point_keys.end());
      }
      out.plan.point_keys.erase(std::unique(out.plan.point_keys.begin(), out.plan.point_keys.end()),
                                out.plan.point_keys.end());
    }
  }
  auto by_start = [](const KeyRange& a, const KeyRange& b) { return a.start < b.start; };
  if (!std::is_sorted(ranges.begin(), ranges.end(), by_start)) std::sort(ranges.begin(), ranges.end(), by_start);
  for (const KeyRange& r : ranges) {
    if (!out.plan.ranges.empty() && r.start <= out.plan.ranges.back().end) {
      out.plan.ranges.back().end = std::max(out.plan.ranges.back().end, r.end);
    } else {
      out.plan.ranges.push_back(r);
    }
  }
  // The sort is provided when its keys are consecutive index fields starting
  // at or before the first field not fixed to one value, all in the index's
  // directions or all reversed.
  // On a multikey index a document sorts by its smallest (or largest) key,
  // which only a scan over the whole range of the sort fields meets first:
  // the sort must start right after fields fixed to one value each.
  const bool has_hashed = std::any_of(fields.begin(), fields.end(), [](const IndexField& f) { return f.hashed; });
  if (!sort.empty() && !has_hashed && (!index->multikey() || (!fixed_ended && !ranged))) {
    size_t first_start = index->multikey() ? fixed : 0;
    for (size_t start = first_start; start <= fixed && !out.plan.provides_sort; ++start) {
      if (start + sort.size() > fields.size()) break;
      bool forward = true, backward = true;
      for (size_t k = 0; k < sort.size(); ++k) {
        const IndexField& f = fields[start + k];
        if (f.dotted != sort[k].first) forward = backward = false;
        if (f.descending != sort[k].second) forward = false;
        if (f.descending == sort[k].second) backward = false;
      }
      if (forward || backward) {
        out.plan.provides_sort = true;
        out.plan.reverse = backward;
      }
    }
  }
  // Exact when the fields bound to values are all the filter has (the
  // conditions hold the filter's fields only, so equal counts suffice).
  out.plan.exact = !has_hashed && exact_fields && !ranged && eq_fields > 0 && eq_fields == exact_fields->size() &&
                   !index->multikey() && !HasArrayIndexComponent(fields);
  out.score = static_cast<int>(eq_fields) * 4 + (ranged ? 2 : 0) + (out.plan.provides_sort ? 1 : 0);
  out.bounded = eq_fields > 0 || ranged;
  if (!describe) return out;
  bson::Builder bounds;
  for (size_t k = 0; k < fields.size(); ++k) {
    bson_t array;
    bson_append_array_begin(bounds.get(), fields[k].dotted.c_str(), -1, &array);
    if (bound_text[k].empty()) bound_text[k].push_back("[MinKey, MaxKey]");
    for (size_t j = 0; j < bound_text[k].size(); ++j) {
      if (bound_text[k][j].empty()) continue;  // $in: [] has no interval
      std::string index_key = std::to_string(j);
      BSON_APPEND_UTF8(&array, index_key.c_str(), bound_text[k][j].c_str());
    }
    bson_append_array_end(bounds.get(), &array);
  }
  out.plan.bounds = bounds.Finish();
  return out;
}

}  // namespace

namespace {

void AppendKeyed(bson_t* out, const char* key, int key_len, const bson_iter_t& value, const bson::StringOrder* strings) {
  const std::string keyed = bson::ComparisonKey(value, strings);
  bson_iter_t it;
  bson::IterHeldValue(keyed, &it);
  docket::bson::AppendElement(out, key, key_len, &it);
}

void AppendKeyedFilter(bson_t* out, const bson_iter_t& filter_fields, const bson::StringOrder* strings, int depth) {
  bson_iter_t it = filter_fields;
  while (bson_iter_next(&it)) {
    const std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    const int key_len = static_cast<int>(key.size());
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it) && depth < 20) {
      bson_t list;
      bson_append_array_begin(out, key.data(), key_len, &list);
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) {
          docket::bson::AppendElement(&list, bson_iter_key(&element), -1, &element);
          continue;
        }
        bson_t sub;
        bson_append_document_begin(&list, bson_iter_key(&element), -1, &sub);
        bson_iter_t fields;
        bson_iter_recurse(&element, &fields);
        AppendKeyedFilter(&sub, fields, strings, depth + 1);
        bson_append_document_end(&list, &sub);
      }
      bson_append_array_end(out, &list);
    } else if (key.empty() || key[0] == '$') {
      docket::bson::AppendElement(out, key.data(), key_len, &it);
    } else if (!bson::IsOperatorDocument(it)) {
      AppendKeyed(out, key.data(), key_len, it, strings);
    } else {
      bson_t ops;
      bson_append_document_begin(out, key.data(), key_len, &ops);
      bson_iter_t op;
      bson_iter_recurse(&it, &op);
      while (bson_iter_next(&op)) {
        const std::string_view name = bson_iter_key(&op);
        if (name == "$eq" || name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte" || name == "$in") {
          AppendKeyed(&ops, bson_iter_key(&op), -1, op, strings);
        } else {
          docket::bson::AppendElement(&ops, bson_iter_key(&op), -1, &op);
        }
      }
      bson_append_document_end(out, &ops);
    }
  }
}

}  // namespace

Document CollationKeyedFilter(const Document& filter, const bson::StringOrder* strings) {
  if (strings == nullptr) return filter;
  bson::Builder out;
  bson_iter_t it;
  filter.Iterate(&it);
  AppendKeyedFilter(out.get(), it, strings, 0);
  return out.Finish();
}

namespace {

// Whether some operand the planner reads for `path` ({path: v}, $eq, $in,
// ranges; at the top level and in $and) holds a string.
bool StringOperandOn(const uint8_t* data, size_t len, const std::string& path, int depth) {
  bson_iter_t it;
  if (depth > 20 || !bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    const std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&element)) continue;
        const std::string_view sub = bson::SubDocumentBytes(element);
        if (StringOperandOn(reinterpret_cast<const uint8_t*>(sub.data()), sub.size(), path, depth + 1)) return true;
      }
      continue;
    }
    if (key != path) continue;
    if (!bson::IsOperatorDocument(it)) {
      if (bson::HasStrings(it)) return true;
      continue;
    }
    bson_iter_t op;
    bson_iter_recurse(&it, &op);
    while (bson_iter_next(&op)) {
      const std::string_view name = bson_iter_key(&op);
      if ((name == "$eq" || name == "$in" || name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte") &&
          bson::HasStrings(op)) {
        return true;
      }
    }
  }
  return false;
}

bool StringOperandOnAnyField(const Document& filter, const Index& index) {
  for (const IndexField& f : index.fields()) {
    if (StringOperandOn(filter.data(), filter.size(), f.dotted, 0)) return true;
  }
  return false;
}

}  // namespace

std::string PrefixSuccessor(std::string prefix) { return Successor(std::move(prefix)); }

Plan ChoosePlan(const Document& raw_filter, const Document& sort,
                const std::vector<std::shared_ptr<const Index>>& indexes, bool describe, bool forced,
                const text::Collator* collation) {
  // Operands as an index of the query's collation stores them; for the
  // indexes of another collation only string-free operands are read, which
  // this leaves as they are.
  const Document filter = CollationKeyedFilter(raw_filter, collation);
  std::map<std::string, Conditions> conditions;
  Collect(filter.data(), filter.size(), describe, &conditions, 0);
  const std::optional<std::vector<std::string>> exact_fields = PointOnlyFields(filter);
  std::vector<std::pair<std::string, bool>> sort_keys;  // (path, descending)
  bson_iter_t it;
  sort.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (!bson::IsNumber(bson_iter_type(&it))) {  // {$meta: "textScore"}: no index holds that order
      return ChoosePlan(raw_filter, Document(), indexes, describe, forced, collation);
    }
    sort_keys.emplace_back(bson_iter_key(&it), bson_iter_as_double(&it) < 0);
  }
  static const std::map<std::string, Conditions> kNoConditions;
  static const std::vector<std::pair<std::string, bool>> kNoSort;
  Candidate best;
  if (forced && indexes.size() == 1) {
    const Index& only = *indexes.front();
    if (text::SameCollation(only.collation(), collation)) {
      return Evaluate(indexes.front(), conditions, exact_fields, sort_keys, describe).plan;
    }
    // Another collation: bounds only from string-free operands; no order.
    const bool bounded = !StringOperandOnAnyField(raw_filter, only);
    return Evaluate(indexes.front(), bounded ? conditions : kNoConditions, bounded ? exact_fields : std::nullopt, kNoSort,
                    describe)
        .plan;
  }
  for (const auto& index : indexes) {
    if (index->text() != nullptr) continue;  // read by $text queries only (engine/text_plan.h)
    if (index->has_sphere() || index->has_flat()) continue;  // read by geo queries only (engine/geo_plan.h)
    const bool same_collation = text::SameCollation(index->collation(), collation);
    if (!same_collation && (index->partial() || StringOperandOnAnyField(raw_filter, *index))) continue;
    // A partial index holds only the documents its expression matches: usable
    // when every match of the filter is one of them.
    if (index->partial() && !FilterImplies(filter, index->partial_filter())) continue;
    Candidate c = Evaluate(index, conditions, exact_fields, same_collation ? sort_keys : kNoSort, describe);
    // A sparse index leaves out the documents that have none of its fields.
    // Every bound above excludes null and missing values, so a bounded plan
    // misses no match; a plan that only gives the sort would.
    if (index->sparse() && !c.bounded) continue;
    if (c.score > best.score) best = std::move(c);
  }
  if (best.score == 0) return Plan();
  return best.plan;
}

}  // namespace docket::index
